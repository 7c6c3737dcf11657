// Try an endpoint from the page: an image (chosen or dropped) or JSON for an entry script, sent
// through the server, which calls the endpoint with its key. An image classifier's ModelOutput
// is shown as its prediction and every label's score, most likely first; any other answer as
// its JSON; a refusal in one line with its request id.
import { type DragEvent, type SyntheticEvent, useState } from "react";
import { invokeEndpoint, type ScoringAnswer, type ScoringInput } from "../api/onlineEndpoints";
import type { Endpoint, ModelOutput } from "../api/types";
import { asError } from "../hooks/useResource";
import { DeploymentSelect } from "./DeploymentSelect";
import { asModelOutput, defaultInputKind, isServing, scoreRows } from "./shaping";

type InputKind = ScoringInput["kind"];

interface Picked {
  file: File;
  preview: string; // a data: URL (the pages' CSP admits data: images, not blob:)
}

export function TestBox({ endpoint }: { endpoint: Endpoint }) {
  const [kind, setKind] = useState<InputKind>(() => defaultInputKind(endpoint));
  const [deployment, setDeployment] = useState(""); // "": by the traffic split
  const [picked, setPicked] = useState<Picked | undefined>();
  const [json, setJson] = useState("");
  const [sending, setSending] = useState(false);
  const [answer, setAnswer] = useState<ScoringAnswer | undefined>();
  const [error, setError] = useState<string | undefined>();

  const pick = (file: File | undefined) => {
    if (file === undefined) return;
    const reader = new FileReader();
    reader.onload = () => {
      setPicked({ file, preview: typeof reader.result === "string" ? reader.result : "" });
    };
    reader.readAsDataURL(file);
  };

  const input: ScoringInput | undefined =
    kind === "image" ? (picked && { kind, file: picked.file }) : json.trim() ? { kind, text: json } : undefined;

  const send = async (event: SyntheticEvent) => {
    event.preventDefault();
    if (input === undefined) return;
    setSending(true);
    setError(undefined);
    try {
      setAnswer(await invokeEndpoint(endpoint.name, input, deployment || undefined));
    } catch (problem) {
      setAnswer(undefined);
      setError(oneLine(asError(problem).message));
    } finally {
      setSending(false);
    }
  };

  return (
    <section className="panel" aria-labelledby="test-title" id="test">
      <h2 id="test-title">Test</h2>
      <form className="test-form" onSubmit={(event) => void send(event)}>
        <div className="inline-form">
          <fieldset className="input-kind">
            <legend>Send</legend>
            {(["image", "json"] as const).map((option) => (
              <label key={option}>
                <input
                  type="radio"
                  name="input-kind"
                  value={option}
                  checked={kind === option}
                  onChange={() => {
                    setKind(option);
                  }}
                />{" "}
                {option === "image" ? "An image" : "JSON"}
              </label>
            ))}
          </fieldset>
          <DeploymentSelect
            id="test-deployment"
            deployments={endpoint.deployments.filter(isServing)}
            value={deployment}
            noneLabel="By the traffic split"
            onChange={setDeployment}
          />
        </div>
        {kind === "image" ? (
          <ImageDrop picked={picked} onPick={pick} />
        ) : (
          <label className="stacked">
            Request body (JSON, as the entry script&apos;s run() takes it)
            <textarea
              id="test-json"
              rows={6}
              spellCheck={false}
              value={json}
              placeholder='{"data": [[1, 2, 3]]}'
              onChange={(event) => {
                setJson(event.target.value);
              }}
            />
          </label>
        )}
        <button type="submit" id="test-send" disabled={sending || input === undefined}>
          {sending ? "Sending…" : "Send"}
        </button>
      </form>
      {error && (
        <p className="alert" role="alert" id="test-error">
          {error}
        </p>
      )}
      <div aria-live="polite">{answer && <AnswerView answer={answer} />}</div>
    </section>
  );
}

function ImageDrop({ picked, onPick }: { picked: Picked | undefined; onPick: (file: File | undefined) => void }) {
  const [over, setOver] = useState(false);
  const dropped = (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    onPick(event.dataTransfer.files[0]);
  };
  return (
    <div
      className={over ? "drop-zone drop-over" : "drop-zone"}
      onDragOver={(event) => {
        event.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => {
        setOver(false);
      }}
      onDrop={dropped}
    >
      <label className="stacked">
        Drop an image here, or choose one
        <input
          type="file"
          id="test-file"
          accept="image/*"
          onChange={(event) => {
            onPick(event.target.files?.[0]);
          }}
        />
      </label>
      {picked && (
        <figure className="drop-preview">
          <img src={picked.preview} alt={`The image to send: ${picked.file.name}`} />
          <figcaption>{picked.file.name}</figcaption>
        </figure>
      )}
    </div>
  );
}

function AnswerView({ answer }: { answer: ScoringAnswer }) {
  const output = asModelOutput(answer.body);
  return (
    <div id="test-result">
      {output ? (
        <ModelOutputView output={output} />
      ) : (
        <pre className="code-block" id="test-answer" tabIndex={0} aria-label="The answer">
          {typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body, null, 2)}
        </pre>
      )}
      <p className="form-note">
        Answered by deployment {answer.deployment ?? "—"}
        {answer.requestId && ` · request id ${answer.requestId}`}
      </p>
    </div>
  );
}

function ModelOutputView({ output }: { output: ModelOutput }) {
  return (
    <>
      <p className="prediction-label">Prediction</p>
      <p className="prediction" id="prediction">
        {output.Prediction}
      </p>
      <ol className="shares scores" id="scores" aria-label="Score of each label">
        {scoreRows(output).map((row) => (
          <li key={row.label} data-label={row.label}>
            <span className="share-name">{row.label}</span>
            <span className="share-bar" aria-hidden="true">
              <span className="share-fill" style={{ width: row.percent }} />
            </span>
            <span className="share-percent">{row.percent}</span>
          </li>
        ))}
      </ol>
    </>
  );
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, " ");
}
