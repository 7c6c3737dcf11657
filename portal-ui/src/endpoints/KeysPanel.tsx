// An endpoint's keys: not in the page until asked for ("Show keys" reads them from the server,
// contributors only: a reader is told so in the server's one line), each with a copy button,
// and regenerated one at a time after a confirmation (callers with the old key are refused
// from their next request).
import { useState } from "react";
import { type KeyName, listKeys, regenerateKey } from "../api/onlineEndpoints";
import type { EndpointKeys } from "../api/types";
import { CopyButton } from "../components/CopyButton";
import { asError } from "../hooks/useResource";

const KEY_NAMES: KeyName[] = ["primary", "secondary"];

function keyOf(keys: EndpointKeys, which: KeyName): string {
  return which === "primary" ? keys.primaryKey : keys.secondaryKey;
}

export function KeysPanel({ endpoint }: { endpoint: string }) {
  const [keys, setKeys] = useState<EndpointKeys | undefined>();
  const [confirming, setConfirming] = useState<KeyName | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [done, setDone] = useState<string | undefined>();

  const ask = async (read: () => Promise<EndpointKeys>, said?: string) => {
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    try {
      setKeys(await read());
      setDone(said);
    } catch (problem) {
      setError(asError(problem).message);
    } finally {
      setBusy(false);
      setConfirming(undefined);
    }
  };

  return (
    <section className="panel" aria-labelledby="keys-title" id="keys">
      <h2 id="keys-title">Keys</h2>
      <p className="form-note">
        Callers send a key as <code>Authorization: Bearer &lt;key&gt;</code>; either key works, so one can be
        regenerated while callers use the other.
      </p>
      {keys === undefined ? (
        <button
          type="button"
          id="show-keys"
          disabled={busy}
          onClick={() => {
            void ask(() => listKeys(endpoint));
          }}
        >
          Show keys
        </button>
      ) : (
        <>
          <dl className="key-list">
            {KEY_NAMES.map((which) => (
              <div key={which} data-key={which}>
                <dt>{which === "primary" ? "Primary key" : "Secondary key"}</dt>
                <dd>
                  <code className="hash" data-field="key">
                    {keyOf(keys, which)}
                  </code>
                  <span className="key-actions">
                    <CopyButton text={keyOf(keys, which)} label="Copy" what={`the ${which} key`} copied="Copied" />
                    <button
                      type="button"
                      disabled={busy}
                      onClick={() => {
                        setConfirming(which);
                      }}
                    >
                      Regenerate
                    </button>
                  </span>
                </dd>
              </div>
            ))}
          </dl>
          {confirming && (
            <div className="confirm" role="group" aria-labelledby="regen-question">
              <p id="regen-question">
                Regenerate the {confirming} key? Callers still sending it are refused from their next request.
              </p>
              <button
                type="button"
                id="confirm-regen"
                autoFocus
                disabled={busy}
                onClick={() => {
                  void ask(() => regenerateKey(endpoint, confirming), `The ${confirming} key was regenerated.`);
                }}
              >
                Regenerate the {confirming} key
              </button>
              <button
                type="button"
                onClick={() => {
                  setConfirming(undefined);
                }}
              >
                Cancel
              </button>
            </div>
          )}
          <button
            type="button"
            id="hide-keys"
            onClick={() => {
              setKeys(undefined);
              setConfirming(undefined);
              setDone(undefined);
            }}
          >
            Hide keys
          </button>
        </>
      )}
      <p className="form-note" role="status">
        {done}
      </p>
      {error && (
        <p className="alert" role="alert" id="keys-error">
          {error}
        </p>
      )}
    </section>
  );
}
