// How an endpoint splits its requests between deployments, each share as a bar and a percent,
// and the mirror's share (a copy of requests whose answers are dropped), if any.
import type { Endpoint } from "../api/types";
import { trafficShares } from "./shaping";

export function TrafficPanel({ endpoint }: { endpoint: Endpoint }) {
  const shares = trafficShares(endpoint);
  return (
    <section className="panel" aria-labelledby="traffic-title" id="traffic">
      <h2 id="traffic-title">Traffic</h2>
      {shares.length === 0 ? (
        <p className="empty">No deployment takes traffic yet.</p>
      ) : (
        <ul className="shares">
          {shares.map((share) => (
            <li key={`${share.deployment}:${String(share.mirror)}`} data-deployment={share.deployment}>
              <span className="share-name">
                {share.deployment}
                {share.mirror && <span className="share-note"> (mirror)</span>}
              </span>
              <span className="share-bar" aria-hidden="true">
                <span
                  className={share.mirror ? "share-fill share-mirror" : "share-fill"}
                  style={{ width: `${String(share.percent)}%` }}
                />
              </span>
              <span className="share-percent" data-field="percent">
                {share.percent}%
              </span>
            </li>
          ))}
        </ul>
      )}
      {shares.some((share) => share.mirror) && (
        <p className="form-note">A mirror gets a copy of its share of requests; its answers are dropped.</p>
      )}
    </section>
  );
}
