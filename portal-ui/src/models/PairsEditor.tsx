// A version's tags (set and remove) and properties (add-only) as key/value lists with a form
// to add one. Contributors change them; a reader's change shows the server's one line.
import { type SyntheticEvent, useState } from "react";
import { asError } from "../hooks/useResource";

interface Props {
  title: string; // Tags, Properties
  values: Record<string, string>;
  onSet: (key: string, value: string) => Promise<unknown>;
  onRemove?: (key: string) => Promise<unknown>; // tags only: properties stay once added
  note?: string;
}

export function PairsEditor({ title, values, onSet, onRemove, note }: Props) {
  const [key, setKey] = useState("");
  const [value, setValue] = useState("");
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const id = title.toLowerCase();

  const send = async (change: () => Promise<unknown>) => {
    setSending(true);
    setError(undefined);
    try {
      await change();
      setKey("");
      setValue("");
    } catch (problem) {
      setError(asError(problem).message);
    } finally {
      setSending(false);
    }
  };
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    if (key.trim()) void send(() => onSet(key.trim(), value));
  };

  const entries = Object.entries(values).sort(([a], [b]) => a.localeCompare(b));
  return (
    <section className="panel" aria-labelledby={`${id}-title`} id={`${id}-panel`}>
      <h2 id={`${id}-title`}>{title}</h2>
      {note && <p className="form-note">{note}</p>}
      {entries.length === 0 ? (
        <p className="empty">None.</p>
      ) : (
        <dl className="key-values">
          {entries.map(([name, text]) => (
            <div key={name}>
              <dt>{name}</dt>
              <dd>
                {text}
                {onRemove && (
                  <button
                    type="button"
                    className="link-button"
                    disabled={sending}
                    aria-label={`Remove ${title.toLowerCase().replace(/s$/, "")} ${name}`}
                    onClick={() => {
                      void send(() => onRemove(name));
                    }}
                  >
                    Remove
                  </button>
                )}
              </dd>
            </div>
          ))}
        </dl>
      )}
      <form className="inline-form" onSubmit={submit}>
        <label>
          Key{" "}
          <input
            type="text"
            id={`${id}-key`}
            value={key}
            required
            onChange={(event) => {
              setKey(event.target.value);
            }}
          />
        </label>
        <label>
          Value{" "}
          <input
            type="text"
            id={`${id}-value`}
            value={value}
            onChange={(event) => {
              setValue(event.target.value);
            }}
          />
        </label>
        <button type="submit" disabled={sending}>
          {onRemove ? "Set" : "Add"}
        </button>
      </form>
      {error && (
        <p className="alert" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
