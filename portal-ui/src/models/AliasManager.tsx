// Setting, moving and removing a model's aliases (contributors: the server refuses a reader,
// and its one line is shown). Setting an alias that exists moves it to the chosen version.
import { type SyntheticEvent, useState } from "react";
import { deleteAlias, setAlias } from "../api/models";
import { asError } from "../hooks/useResource";
import { aliasBadges } from "./shaping";

interface Props {
  name: string;
  aliases: Record<string, number>;
  versions: number[]; // newest first
  onChanged: () => void;
}

export function AliasManager({ name, aliases, versions, onChanged }: Props) {
  const [alias, setAliasName] = useState("");
  const [version, setVersion] = useState(versions[0] ?? 1);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [done, setDone] = useState<string | undefined>();

  const send = async (change: () => Promise<unknown>, said: string) => {
    setSending(true);
    setError(undefined);
    setDone(undefined);
    try {
      await change();
      setDone(said);
      onChanged();
    } catch (problem) {
      setError(asError(problem).message);
    } finally {
      setSending(false);
    }
  };

  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    const wanted = alias.trim();
    if (!wanted) return;
    void send(() => setAlias(name, wanted, version), `${wanted} now points at version ${String(version)}.`);
  };

  const badges = aliasBadges(aliases);
  return (
    <section className="panel" aria-labelledby="aliases-title" id="alias-manager">
      <h2 id="aliases-title">Aliases</h2>
      {badges.length === 0 ? (
        <p className="empty">No alias yet.</p>
      ) : (
        <ul className="alias-rows">
          {badges.map((badge) => (
            <li key={badge.alias} data-alias-row={badge.alias}>
              <span className="badge badge-alias">{badge.label}</span>
              <button
                type="button"
                disabled={sending}
                aria-label={`Remove alias ${badge.alias}`}
                onClick={() => {
                  void send(() => deleteAlias(name, badge.alias), `${badge.alias} removed.`);
                }}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <form className="inline-form" onSubmit={submit}>
        <label>
          Alias{" "}
          <input
            type="text"
            id="alias-name"
            value={alias}
            list="known-aliases"
            placeholder="champion"
            required
            onChange={(event) => {
              setAliasName(event.target.value);
            }}
          />
        </label>
        <datalist id="known-aliases">
          {badges.map((badge) => (
            <option key={badge.alias} value={badge.alias} />
          ))}
        </datalist>
        <label>
          Version{" "}
          <select
            id="alias-version"
            value={version}
            onChange={(event) => {
              setVersion(Number(event.target.value));
            }}
          >
            {versions.map((number) => (
              <option key={number} value={number}>
                {number}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={sending}>
          Set alias
        </button>
      </form>
      <p className="form-note" role="status">
        {done}
      </p>
      {error && (
        <p className="alert" role="alert" id="alias-error">
          {error}
        </p>
      )}
    </section>
  );
}
