// The compare page's address: /compare?runs=ID1,ID2 (run ids hold no commas).
export const COMPARE_MAX = 10;

export function compareUrl(runIds: string[]): string {
  return `/compare?runs=${runIds.map(encodeURIComponent).join(",")}`;
}

/** The runs to compare, once each, in the order given, at most `COMPARE_MAX`. */
export function comparedIds(params: URLSearchParams): string[] {
  const ids = (params.get("runs") ?? "")
    .split(",")
    .map((id) => id.trim())
    .filter(Boolean);
  return [...new Set(ids)].slice(0, COMPARE_MAX);
}
