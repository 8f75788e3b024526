/** Light, dark, or the system's preference (prefers-color-scheme). */
import { useSyncExternalStore } from 'react';
import type { Theme } from '../state/store.ts';
import { useApp } from './appContext.ts';
import type { ResolvedTheme } from './palette.ts';

const query = '(prefers-color-scheme: dark)';
const subscribe = (cb: () => void) => {
  const m = window.matchMedia(query);
  m.addEventListener('change', cb);
  return () => m.removeEventListener('change', cb);
};

export function useResolvedTheme(): ResolvedTheme {
  const theme = useApp((s) => s.theme);
  const systemDark = useSyncExternalStore(subscribe, () => window.matchMedia(query).matches);
  return theme === 'system' ? (systemDark ? 'dark' : 'light') : theme;
}

export function ThemeToggle() {
  const theme = useApp((s) => s.theme);
  const setTheme = useApp((s) => s.setTheme);
  return (
    <label className="theme-toggle">
      Theme
      <select value={theme} onChange={(e) => setTheme(e.currentTarget.value as Theme)}>
        <option value="system">System</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </label>
  );
}
