// A panel's facts as label–value pairs, laid out in as many columns as the width holds.
import type { ReactNode } from "react";

export type Fact = [label: string, value: ReactNode];

export function Facts({ facts, className }: { facts: Fact[]; className?: string }) {
  return (
    <dl className={className ? `facts ${className}` : "facts"}>
      {facts.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
