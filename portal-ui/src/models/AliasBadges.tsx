// Aliases as badges: "champion → v3" in a list of models, "champion" beside its version.
import { aliasBadges } from "./shaping";

export function ModelAliasBadges({ aliases }: { aliases: Record<string, number> }) {
  const badges = aliasBadges(aliases);
  if (badges.length === 0) return <span className="empty">—</span>;
  return (
    <ul className="badge-list" aria-label="Aliases">
      {badges.map((badge) => (
        <li key={badge.alias} className="badge badge-alias" data-alias={badge.alias}>
          {badge.label}
        </li>
      ))}
    </ul>
  );
}

export function VersionAliasBadges({ aliases }: { aliases: string[] }) {
  if (aliases.length === 0) return null;
  return (
    <ul className="badge-list" aria-label="Aliases">
      {[...aliases].sort().map((alias) => (
        <li key={alias} className="badge badge-alias" data-alias={alias}>
          {alias}
        </li>
      ))}
    </ul>
  );
}
