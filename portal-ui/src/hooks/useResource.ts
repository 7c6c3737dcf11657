// A read from the server as React state: loading, the data, or the error. A new `key` starts a
// new read and aborts the one under way, whose answer is then dropped: a slow first page never
// overwrites the page asked for after it. The last data stays shown while the next one loads.
import { useCallback, useEffect, useState } from "react";

export interface Resource<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => void;
}

interface Settled<T> {
  request: string; // the key and generation this answer is for
  data: T | undefined;
  error: Error | undefined;
}

export function useResource<T>(
  load: (signal: AbortSignal) => Promise<T>,
  key: string,
): Resource<T> {
  const [generation, setGeneration] = useState(0);
  const request = `${String(generation)}:${key}`;
  const [settled, setSettled] = useState<Settled<T>>({
    request: "",
    data: undefined,
    error: undefined,
  });
  const reload = useCallback(() => {
    setGeneration((count) => count + 1);
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    load(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setSettled({ request, data, error: undefined });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) {
          setSettled((previous) => ({ ...previous, request, error: asError(error) }));
        }
      },
    );
    return () => {
      controller.abort();
    };
    // `load` is a new function on every render: `key` names what it reads.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [request]);

  return {
    data: settled.data,
    error: settled.error,
    loading: settled.request !== request,
    reload,
  };
}

export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
