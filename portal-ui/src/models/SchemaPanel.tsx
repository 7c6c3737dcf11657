// A version's recorded input and output: each field with its type, an image classifier's
// labels and preprocessing; a schema of another shape as its JSON.
import { type SchemaView, schemaView } from "./shaping";

export function SchemaPanel({ input, output }: { input: unknown; output: unknown }) {
  const views: [string, SchemaView | null][] = [
    ["Input", schemaView(input)],
    ["Output", schemaView(output)],
  ];
  return (
    <section className="panel" aria-labelledby="schema-title" id="schema">
      <h2 id="schema-title">Input and output</h2>
      <div className="columns">
        {views.map(([side, view]) => (
          <div key={side} data-schema={side.toLowerCase()}>
            <h3>
              {side}
              {view?.name ? `: ${view.name}` : ""}
            </h3>
            <SchemaBody view={view} />
          </div>
        ))}
      </div>
    </section>
  );
}

function SchemaBody({ view }: { view: SchemaView | null }) {
  if (view === null) return <p className="empty">Not recorded.</p>;
  if (view.other !== null) return <pre className="code-block">{view.other}</pre>;
  return (
    <>
      <ul className="schema-fields">
        {view.fields.map((field) => (
          <li key={field.name}>
            <code>{field.name}</code>
            {field.type && <span className="schema-type"> {field.type}</span>}
            {field.description && <span className="empty"> — {field.description}</span>}
          </li>
        ))}
      </ul>
      {view.labels.length > 0 && (
        <>
          <h4>Labels ({view.labels.length})</h4>
          <ul className="badge-list" aria-label="Labels" id="labels">
            {view.labels.map((label) => (
              <li key={label} className="badge badge-neutral">
                {label}
              </li>
            ))}
          </ul>
        </>
      )}
      {view.details.length > 0 && (
        <>
          <h4>Preprocessing</h4>
          <dl className="key-values">
            {view.details.map(([key, value]) => (
              <div key={key}>
                <dt>{key}</dt>
                <dd>{value}</dd>
              </div>
            ))}
          </dl>
        </>
      )}
    </>
  );
}
