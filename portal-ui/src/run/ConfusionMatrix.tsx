// The confusion matrix as a grid of buttons: rows are true classes, columns predicted ones,
// each cell shaded by its share of the row (how the true class's images were predicted), its
// count written in it. Hovering or focusing a cell says what it holds; clicking it (or Enter)
// chooses it. One cell is in the tab order; the arrow keys, Home and End move between cells.
import { type KeyboardEvent, type SyntheticEvent, useRef, useState } from "react";
import type { ConfusionMatrixData } from "./evaluation";

export interface Cell {
  row: number; // true class
  column: number; // predicted class
}

interface Props {
  data: ConfusionMatrixData;
  selected: Cell | null;
  onSelect: (cell: Cell) => void;
}

const DARK_BLUE = [8, 48, 107]; // the dark end of matplotlib's "Blues", as the PNG is drawn
// White counts from this share on, black below: either way at least 4.5:1 contrast (WCAG AA).
const WHITE_TEXT_FROM = 0.66;

export function ConfusionMatrix({ data, selected, onSelect }: Props) {
  const { labels, matrix } = data;
  const [focus, setFocus] = useState<Cell>(selected ?? { row: 0, column: 0 });
  const [shown, setShown] = useState<Tooltip | null>(null); // the cell whose tooltip is up
  const grid = useRef<HTMLTableElement>(null);
  const size = labels.length;

  const moveTo = (cell: Cell) => {
    setFocus(cell);
    grid.current
      ?.querySelector<HTMLButtonElement>(`button[data-row="${cell.row}"][data-column="${cell.column}"]`)
      ?.focus();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLButtonElement>, cell: Cell) => {
    const next = movedCell(event.key, cell, size, event.ctrlKey);
    if (next === null) return;
    event.preventDefault();
    moveTo(next);
  };

  return (
    <div className="confusion-wrap">
      <table className="confusion-matrix" id="confusion-matrix" ref={grid}>
        <caption>
          Confusion matrix: rows are the true class, columns the predicted class; the shade is
          the share of the true class's images.
        </caption>
        <thead>
          <tr>
            <th scope="col" className="cm-corner">
              true ↓ / predicted →
            </th>
            {labels.map((label) => (
              <th key={label} scope="col" className="cm-column-label" title={label}>
                <span>{label}</span>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {matrix.map((counts, row) => {
            const total = counts.reduce((sum, count) => sum + count, 0);
            return (
              <tr key={labels[row]}>
                <th scope="row">{labels[row]}</th>
                {counts.map((count, column) => {
                  const cell = { row, column };
                  const share = total > 0 ? count / total : 0;
                  const isFocus = focus.row === row && focus.column === column;
                  const isSelected = selected?.row === row && selected.column === column;
                  const text = describeCell(labels, cell, count, share);
                  return (
                    <td key={column} className="cm-cell">
                      <button
                        type="button"
                        data-row={row}
                        data-column={column}
                        data-count={count}
                        tabIndex={isFocus ? 0 : -1}
                        aria-label={text}
                        aria-pressed={isSelected}
                        className={share >= WHITE_TEXT_FROM ? "cm-dark" : undefined}
                        style={{ backgroundColor: shade(share) }}
                        onClick={() => {
                          setFocus(cell);
                          onSelect(cell);
                        }}
                        onKeyDown={(event) => {
                          onKeyDown(event, cell);
                        }}
                        onFocus={(event) => {
                          setFocus(cell);
                          setShown(tooltipAt(event, text));
                        }}
                        onBlur={() => {
                          setShown(null);
                        }}
                        onMouseEnter={(event) => {
                          setShown(tooltipAt(event, text));
                        }}
                        onMouseLeave={() => {
                          setShown(null);
                        }}
                      >
                        {count}
                      </button>
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
      </table>
      {shown && (
        // Fixed to the window, below the cell: the matrix's scrolling box would clip it.
        <span className="cm-tooltip" role="tooltip" style={{ left: shown.x, top: shown.y }}>
          {shown.text}
        </span>
      )}
    </div>
  );
}

interface Tooltip {
  text: string;
  x: number; // the cell's centre, in the window
  y: number; // just below the cell
}

function tooltipAt(event: SyntheticEvent<HTMLElement>, text: string): Tooltip {
  const box = event.currentTarget.getBoundingClientRect();
  return { text, x: box.left + box.width / 2, y: box.bottom + 4 };
}

export function describeCell(labels: string[], cell: Cell, count: number, share: number): string {
  const truth = labels[cell.row] ?? "";
  const predicted = labels[cell.column] ?? "";
  const percent = `${(share * 100).toFixed(1)}% of ${truth}`;
  const images = `${count} image${count === 1 ? "" : "s"}`;
  if (cell.row === cell.column) return `${truth} predicted correctly: ${images} (${percent})`;
  return `${truth} predicted as ${predicted}: ${images} (${percent})`;
}

function movedCell(key: string, cell: Cell, size: number, toEdge: boolean): Cell | null {
  const last = size - 1;
  const clamp = (value: number) => Math.min(last, Math.max(0, value));
  switch (key) {
    case "ArrowRight":
      return { ...cell, column: clamp(cell.column + 1) };
    case "ArrowLeft":
      return { ...cell, column: clamp(cell.column - 1) };
    case "ArrowDown":
      return { ...cell, row: clamp(cell.row + 1) };
    case "ArrowUp":
      return { ...cell, row: clamp(cell.row - 1) };
    case "Home":
      return toEdge ? { row: 0, column: 0 } : { ...cell, column: 0 };
    case "End":
      return toEdge ? { row: last, column: last } : { ...cell, column: last };
    default:
      return null;
  }
}

/** White to dark blue by `share` (0 to 1). */
export function shade(share: number): string {
  const channel = (dark: number) => Math.round(255 + (dark - 255) * share);
  return `rgb(${DARK_BLUE.map(channel).join(", ")})`;
}
