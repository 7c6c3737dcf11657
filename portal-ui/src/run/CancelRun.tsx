// Cancel for a run that has not ended, asked twice: the first press asks, "Yes, cancel it"
// sends POST …/cancel (the portal header rides along: api/client.ts). A refusal (a viewer, a
// run that ended meanwhile) shows the server's one line.
import { useEffect, useRef, useState } from "react";
import { cancelRun } from "../api/runLifecycle";
import { asError } from "../hooks/useResource";

interface Props {
  runId: string;
  onCanceled: () => void;
}

export function CancelRun({ runId, onCanceled }: Props) {
  const [asking, setAsking] = useState(false);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const confirmButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (asking) confirmButton.current?.focus();
  }, [asking]);

  const cancel = async () => {
    setSending(true);
    setError(undefined);
    try {
      await cancelRun(runId);
      setAsking(false);
      onCanceled();
    } catch (problem) {
      setError(asError(problem).message);
    } finally {
      setSending(false);
    }
  };

  return (
    <span className="cancel-run">
      {asking ? (
        <>
          <span id="cancel-question">Cancel this run?</span>
          <button
            ref={confirmButton}
            type="button"
            aria-describedby="cancel-question"
            disabled={sending}
            onClick={() => {
              void cancel();
            }}
          >
            Yes, cancel it
          </button>
          <button
            type="button"
            disabled={sending}
            onClick={() => {
              setAsking(false);
            }}
          >
            Keep running
          </button>
        </>
      ) : (
        <button
          type="button"
          onClick={() => {
            setAsking(true);
          }}
        >
          Cancel run
        </button>
      )}
      {error && (
        <span className="error-text" role="alert" data-field="cancel-error">
          Not canceled: {error}
        </span>
      )}
    </span>
  );
}
