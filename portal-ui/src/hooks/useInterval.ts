// Calls `tick` every `ms` while `active`: a page's polling, stopped when what it shows has ended
// or the page is left.
import { useEffect, useRef } from "react";

export function useInterval(tick: () => void, ms: number, active = true): void {
  // The latest `tick` without restarting the timer when a render makes a new function.
  const latest = useRef(tick);
  useEffect(() => {
    latest.current = tick;
  }, [tick]);
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => {
      latest.current();
    }, ms);
    return () => {
      clearInterval(timer);
    };
  }, [active, ms]);
}
