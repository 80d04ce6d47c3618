// Data hooks: useApi loads once per change of its dependencies, usePoll reloads on a timer
// (never two requests at once, stopped when the page goes away). Both keep the last data
// when a later load fails, and expose the error.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export function usePoll(load, intervalMs, deps = []) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const gen = useRef(0);
  const timer = useRef(null);
  const loadRef = useRef(load);
  loadRef.current = load;

  const run = useCallback(async (g) => {
    clearTimeout(timer.current);
    try {
      const data = await loadRef.current();
      if (g !== gen.current) return;
      setState({ data, error: null, loading: false });
    } catch (error) {
      if (g !== gen.current) return;
      setState((s) => ({ data: s.data, error, loading: false }));
    }
    if (g === gen.current && intervalMs > 0) {
      timer.current = setTimeout(() => run(g), intervalMs);
    }
  }, [intervalMs]);

  useEffect(() => {
    gen.current += 1;
    setState({ data: null, error: null, loading: true });
    run(gen.current);
    return () => {
      gen.current += 1;
      clearTimeout(timer.current);
    };
  }, deps); // eslint-disable-line react-hooks/exhaustive-deps

  const reload = useCallback(() => {
    gen.current += 1;
    run(gen.current);
  }, [run]);

  return { ...state, reload };
}

/** Loads once (and again when deps change or reload() is called). */
export function useApi(load, deps = []) {
  return usePoll(load, 0, deps);
}
