/** How components reach the store and the worker client: one context, bound thinly. */
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { Client } from '../state/client.ts';
import type { AppActions, AppState, Store } from '../state/store.ts';

export interface Sample {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly files: readonly string[];
}

export interface AppServices {
  readonly store: Store;
  readonly client: Client;
  readonly samples: readonly Sample[];
  openFiles(files: readonly File[]): void;
  openSample(id: string): void;
}

export const AppContext = createContext<AppServices | null>(null);

export function useServices(): AppServices {
  const s = useContext(AppContext);
  if (!s) throw new Error('AppContext missing');
  return s;
}

export function useApp<T>(select: (s: AppState & AppActions) => T): T {
  return useStore(useServices().store, select);
}
