/**
 * The app's state, in a zustand store with no React in it (STYLE.md): tests and the URL drive
 * it directly; React binds to it thinly (ui/useStore.ts). File bytes live only in the File
 * objects handed to the worker; nothing here is parsed.
 */
import { createStore } from 'zustand/vanilla';
import type { ChainInfo, ErrorInfo, HitDetail } from '../worker/protocol.ts';
import { type DiffSpec, diffLength, type SecondImage } from './diff.ts';
import { DEFAULT_LAYERS, type LayerId, type LayerToggles } from './layers.ts';
import { clampView, fullView, minViewLength, panView, type ViewRange, zoomView } from './view.ts';

export type Theme = 'system' | 'light' | 'dark';

export interface LoadState {
  readonly status: 'idle' | 'loading' | 'ready' | 'error';
  readonly phase: string;
  readonly done: number;
  readonly total: number;
}

export interface AppState {
  /** Names and sizes of the files in the current chain, in drop order. */
  readonly files: readonly { readonly name: string; readonly size: number }[];
  /** The sample being shown, if it came from the gallery. */
  readonly sample?: string;
  /** The http(s) URL the image was opened from (url.ts linkableUrl form; permalinks carry it). */
  readonly url?: string;
  readonly load: LoadState;
  readonly openId: number;
  readonly chain?: ChainInfo;
  /** Why nothing could be opened (each file's error), shown in place of a map. */
  readonly openErrors: readonly ErrorInfo[];
  readonly view: ViewRange;
  readonly layers: LayerToggles;
  /** Guest offset of the selected cluster, and the worker's answer for it. */
  readonly selection?: number;
  readonly detail?: HitDetail;
  readonly theme: Theme;
  /** The diff view's A and B (issue 4); absent = the single-interpretation map. */
  readonly diff?: DiffSpec;
  /** The second image open in the worker for the diff's side B (not shared: the spec names it). */
  readonly second?: SecondImage;
  /**
   * The internal snapshot (by name) whose L1 table the map shows; absent = the active L1. The
   * one truth for the Image panel, the URL and the worker's view (snapshot.ts follows it).
   */
  readonly snapshot?: string;
  /** Messages about the link and the image (permalink.ts), newest last. */
  readonly notices: readonly Notice[];
}

export interface OpenOrigin {
  readonly sample?: string;
  readonly url?: string;
}

export interface Notice {
  readonly level: 'info' | 'warn' | 'error';
  readonly text: string;
}

export interface AppActions {
  /** A new open begins: what it came from (a sample, a URL), nothing of the previous open's place. */
  startLoad(files: readonly { name: string; size: number }[], from?: OpenOrigin): void;
  progress(phase: string, done: number, total: number): void;
  opened(openId: number, chain: ChainInfo): void;
  /** A first part of the map while loading (extents over [0, end)); the view is kept across parts. */
  partial(openId: number, chain: ChainInfo, end: number): void;
  failed(errors: readonly ErrorInfo[]): void;
  setView(v: ViewRange): void;
  zoom(factor: number, anchor?: number): void;
  pan(bytes: number): void;
  resetView(): void;
  toggleLayer(id: LayerId): void;
  setLayers(layers: LayerToggles): void;
  select(offset: number | undefined): void;
  setDetail(detail: HitDetail | undefined): void;
  setTheme(t: Theme): void;
  setDiff(d: DiffSpec | undefined): void;
  setSecond(s: SecondImage | undefined): void;
  setSnapshot(name: string | undefined): void;
  notify(level: Notice['level'], text: string): void;
  dismissNotices(): void;
}

export type Store = ReturnType<typeof createAppStore>;

const idle: LoadState = { status: 'idle', phase: '', done: 0, total: 0 };

export function createAppStore(init: Partial<AppState> = {}) {
  return createStore<AppState & AppActions>()((set, get) => {
    const limits = () => {
      const c = get().chain;
      // While B reads a longer second image, the view reaches its end too.
      const length = c ? diffLength(c.length, get().diff, get().second) : 0;
      return c ? { length, min: minViewLength(c.clusterSize, length) } : undefined;
    };
    const reclamp = () => {
      const l = limits();
      if (l) set({ view: clampView(get().view, l.length, l.min) });
    };
    return {
      files: [],
      load: idle,
      openId: 0,
      openErrors: [],
      notices: [],
      view: { start: 0, end: 0 },
      layers: DEFAULT_LAYERS,
      theme: 'system',
      ...init,

      startLoad: (files, from = {}) => {
        const { sample: _old, url: _u, selection: _s, detail: _d, snapshot: _n, ...rest } = get();
        set(
          {
            ...rest,
            files,
            ...(from.sample !== undefined && { sample: from.sample }),
            ...(from.url !== undefined && { url: from.url }),
            load: { status: 'loading', phase: 'opening', done: 0, total: 0 },
            openErrors: [],
          },
          true,
        );
      },
      progress: (phase, done, total) => set({ load: { status: 'loading', phase, done, total } }),
      opened: (openId, chain) =>
        set({
          openId,
          chain,
          // A partial map of this open was shown already: keep where the person looked.
          view: get().openId === openId && get().chain ? get().view : fullView(chain.length),
          load: { status: 'ready', phase: 'done', done: 1, total: 1 },
          openErrors: [],
        }),
      partial: (openId, chain) =>
        set({
          openId,
          chain,
          ...((get().openId !== openId || !get().chain) && { view: fullView(chain.length) }),
        }),
      failed: (errors) => {
        const { chain: _c, selection: _s, detail: _d, ...rest } = get();
        set({ ...rest, openErrors: errors, load: { ...idle, status: 'error' } }, true);
      },
      setView: (v) => {
        const l = limits();
        if (l) set({ view: clampView(v, l.length, l.min) });
      },
      zoom: (factor, anchor) => {
        const l = limits();
        const v = get().view;
        if (l) set({ view: zoomView(v, factor, anchor ?? (v.start + v.end) / 2, l.length, l.min) });
      },
      pan: (bytes) => {
        const l = limits();
        if (l) set({ view: panView(get().view, bytes, l.length, l.min) });
      },
      resetView: () => {
        const l = limits();
        if (l) set({ view: fullView(l.length) });
      },
      toggleLayer: (id) => set({ layers: { ...get().layers, [id]: !get().layers[id] } }),
      setLayers: (layers) => set({ layers }),
      select: (offset) => {
        const { selection: _s, detail: _d, ...rest } = get();
        set(offset === undefined ? rest : { ...rest, selection: offset }, true);
      },
      setDetail: (detail) => {
        if (detail === undefined) {
          const { detail: _d, ...rest } = get();
          set(rest, true);
        } else if (detail.offset === get().selection) set({ detail });
      },
      setTheme: (theme) => set({ theme }),
      setSnapshot: (name) => {
        const { snapshot: _s, ...rest } = get();
        set(name === undefined ? rest : { ...rest, snapshot: name }, true);
      },
      // Bounded: a notice list never grows past the last few messages.
      notify: (level, text) => set({ notices: [...get().notices.slice(-3), { level, text }] }),
      dismissNotices: () => set({ notices: [] }),
      setDiff: (diff) => {
        if (diff) set({ diff });
        else {
          const { diff: _d, ...rest } = get();
          set(rest, true);
        }
        reclamp();
      },
      setSecond: (second) => {
        if (second) set({ second });
        else {
          const { second: _s, ...rest } = get();
          set(rest, true);
        }
        reclamp();
      },
    };
  });
}
