// The designer's undo and redo: each edit (of the text or of where a node sits) is a state;
// undo steps back, redo forward, and a new edit after an undo drops what was undone.
import type { Layout } from "../api/designer";

export interface Design {
  text: string;
  layout: Layout;
}

export interface History {
  states: Design[];
  at: number;
}

const LIMIT = 200; // states kept; the oldest go first

export function startHistory(design: Design): History {
  return { states: [design], at: 0 };
}

export function current(history: History): Design {
  const state = history.states[history.at];
  if (state === undefined) throw new Error("the history is empty");
  return state;
}

export function record(history: History, design: Design): History {
  const now = current(history);
  if (now.text === design.text && sameLayout(now.layout, design.layout)) return history;
  const states = [...history.states.slice(0, history.at + 1), design].slice(-LIMIT);
  return { states, at: states.length - 1 };
}

export const canUndo = (history: History) => history.at > 0;
export const canRedo = (history: History) => history.at < history.states.length - 1;

export function undo(history: History): History {
  return canUndo(history) ? { ...history, at: history.at - 1 } : history;
}

export function redo(history: History): History {
  return canRedo(history) ? { ...history, at: history.at + 1 } : history;
}

function sameLayout(a: Layout, b: Layout): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => a[key]?.x === b[key]?.x && a[key]?.y === b[key]?.y);
}
