/** The width of an element that may mount later (`mounted` re-runs the observer). */
import { type RefObject, useLayoutEffect, useRef, useState } from 'react';

export function useWidth<T extends HTMLElement>(mounted = true): [RefObject<T | null>, number] {
  const ref = useRef<T>(null);
  const [w, setW] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: re-observe once the element mounts
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setW(el.clientWidth));
    ro.observe(el);
    setW(el.clientWidth);
    return () => ro.disconnect();
  }, [mounted]);
  return [ref, w];
}
