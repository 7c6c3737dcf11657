// A comparison's table of values: one row per key any compared run has (a param, a metric), its
// value in each run (undefined where a run lacks it), and whether the runs disagree on it.
export interface DiffRow<T> {
  key: string;
  values: (T | undefined)[];
  differs: boolean;
}

export function diffRows<T>(tables: Record<string, T>[]): DiffRow<T>[] {
  const keys = [...new Set(tables.flatMap((table) => Object.keys(table)))].sort((a, b) =>
    a.localeCompare(b),
  );
  return keys.map((key) => {
    const values = tables.map((table) => (Object.hasOwn(table, key) ? table[key] : undefined));
    // A key one run lacks differs from any value another run has.
    const distinct = new Set(values.map((value) => JSON.stringify(value ?? null)));
    return { key, values, differs: distinct.size > 1 };
  });
}
