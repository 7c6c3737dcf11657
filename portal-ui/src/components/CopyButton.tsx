// A button that puts `text` on the clipboard and says so; where the browser refuses the
// clipboard, the text is shown selected in a box to copy by hand.
import { useState } from "react";

interface Props {
  text: string;
  label: string; // the button's words: "Copy link"
  what: string; // what is copied, for the box's label: "Link to this view"
  copied: string; // said once it is copied: "Link copied"
  id?: string;
}

export function CopyButton({ text, label, what, copied, id }: Props) {
  const [state, setState] = useState<"idle" | "copied" | "manual">("idle");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setState("copied");
    } catch {
      setState("manual");
    }
  };
  return (
    <>
      <button
        type="button"
        id={id}
        aria-label={label === "Copy" ? `Copy ${what}` : undefined}
        onClick={() => {
          void copy();
        }}
      >
        {label}
      </button>
      <span aria-live="polite" className="copied">
        {state === "copied" ? copied : ""}
      </span>
      {state === "manual" && (
        <input
          type="text"
          readOnly
          aria-label={what}
          value={text}
          onFocus={(event) => {
            event.target.select();
          }}
          autoFocus
        />
      )}
    </>
  );
}
