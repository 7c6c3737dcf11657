// The first rows of a CSV or TSV file (RFC 4180 quoting: "a, b" and "say ""hi""").
export interface CsvTable {
  header: string[];
  rows: string[][];
  more: boolean; // rows past those returned (or a file cut before its end)
}

export function parseCsvHead(text: string, separator: string, maxRows: number, cut: boolean): CsvTable {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let index = 0;
  let complete = true; // the last row read ended with its line
  for (; index < text.length && rows.length <= maxRows; index += 1) {
    const char = text.charAt(index);
    complete = false;
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        field += '"';
        index += 1;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"' && field === "") quoted = true;
    else if (char === separator) {
      row.push(field);
      field = "";
    } else if (char === "\n" || char === "\r") {
      if (char === "\r" && text[index + 1] === "\n") index += 1;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      complete = true;
    } else field += char;
  }
  // The text ended inside a row: a whole row only if the file ended there too.
  if (!complete && !cut) {
    row.push(field);
    rows.push(row);
  }
  const [header = [], ...body] = rows;
  const more = body.length > maxRows || index < text.length || cut;
  return { header, rows: body.slice(0, maxRows), more };
}
