// A row of tabs as the ARIA tabs pattern has them: one tab in the Tab order, the arrow keys, Home
// and End move between them. The page keeps which tab is open (in its URL) and shows its panel
// with `TabPanel`, whose id the tab controls. A panel is mounted when its tab is first opened
// and then kept (`useOpenedTabs`), so what it holds or follows goes on while another is shown.
import { type KeyboardEvent, type ReactNode, useRef, useState } from "react";

interface TabListProps<T extends string> {
  label: string;
  tabs: [T, string][]; // name, title
  current: T;
  onChoose: (name: T) => void;
}

export function TabList<T extends string>({ label, tabs, current, onChoose }: TabListProps<T>) {
  const list = useRef<HTMLDivElement>(null);
  const onKeyDown = (event: KeyboardEvent) => {
    const index = tabs.findIndex(([name]) => name === current);
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    const target =
      event.key === "Home" ? 0 : event.key === "End" ? tabs.length - 1 : step === undefined ? null : index + step;
    if (target === null) return;
    event.preventDefault();
    const tab = tabs[(target + tabs.length) % tabs.length];
    if (tab === undefined) return;
    onChoose(tab[0]);
    list.current?.querySelector<HTMLButtonElement>(`#tab-${tab[0]}`)?.focus();
  };
  return (
    <div className="tabs" role="tablist" aria-label={label} ref={list} onKeyDown={onKeyDown}>
      {tabs.map(([name, title]) => (
        <button
          key={name}
          type="button"
          role="tab"
          id={`tab-${name}`}
          aria-selected={name === current}
          aria-controls={`panel-${name}`}
          tabIndex={name === current ? 0 : -1}
          onClick={() => {
            onChoose(name);
          }}
        >
          {title}
        </button>
      ))}
    </div>
  );
}

export function TabPanel({ name, shown, children }: { name: string; shown: boolean; children: ReactNode }) {
  return (
    <div role="tabpanel" id={`panel-${name}`} aria-labelledby={`tab-${name}`} hidden={!shown}>
      {children}
    </div>
  );
}

/** The tabs opened so far, `current` included. */
export function useOpenedTabs<T extends string>(current: T): Set<T> {
  const [opened, setOpened] = useState<Set<T>>(() => new Set([current]));
  if (!opened.has(current)) {
    const more = new Set([...opened, current]);
    setOpened(more);
    return more;
  }
  return opened;
}
