import "@tanstack/react-table";

declare module "@tanstack/react-table" {
  // A column's own rendering hints (a metric's numbers align right).
  // The type parameters must match the library's declaration, though unused here.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface ColumnMeta<TData, TValue> {
    numeric?: boolean;
  }
}
