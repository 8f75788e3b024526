/**
 * The app's state, in a zustand store with no React in it (STYLE.md): tests and the URL drive
 * it directly; React binds to it thinly (ui/appContext.ts). It holds what the page shows; the
 * engine's data stays in the worker. File bytes live only in the File objects handed to it.
 *
 * Opens are tokens: each load gets one, and only the newest load's results apply. An open that
 * a newer one superseded can never deliver (the client and the worker drop it too).
 */
import { createStore } from 'zustand/vanilla';
import type { Opened } from '../protocol/calls.ts';
import type { ErrorInfo } from '../protocol/errors.ts';
import type { Bins, GridBox, Hit } from '../protocol/results.ts';
import type { ChainInfo, DiffInfo, ScanInfo } from '../protocol/source.ts';
import { type DiffSpec, diffLength } from './diff.ts';
import { type Highlight, keepsHighlight } from './highlight.ts';
import { DEFAULT_LAYERS, type LayerId, type LayerToggles } from './layers.ts';
import { type LinkState, NO_LINK } from './link.ts';
import { clampView, fullView, minViewLength, panView, type ViewRange, zoomView } from './view.ts';

export type Theme = 'system' | 'light' | 'dark';

export interface LoadState {
  readonly status: 'idle' | 'loading' | 'ready' | 'error';
  readonly phase: string;
  readonly done: number;
  readonly total: number;
}

/** The diff view's answer for the store's A and B (state/diffFollow.ts keeps it current). */
export type DiffResult =
  | { readonly status: 'idle' }
  /** B names a second image that is not open (a link was opened): its files are needed. */
  | { readonly status: 'needs-b' }
  /** `progress`: a side's content scan, as it reads (what it will read is said first, at 0). */
  | {
      readonly status: 'computing';
      readonly progress?: { readonly phase: string; readonly done: number; readonly total: number };
    }
  /** The person stopped it (a long content scan); `rerunDiff` asks again. */
  | { readonly status: 'cancelled' }
  | { readonly status: 'error'; readonly message: string }
  | { readonly status: 'ready'; readonly info: DiffInfo };

export interface AppState {
  /** Names and sizes of the files in the current chain, in drop order. */
  readonly files: readonly { readonly name: string; readonly size: number }[];
  /** The sample being shown, if it came from the gallery. */
  readonly sample?: string;
  /** The http(s) URL the image was opened from (url.ts linkableUrl form; permalinks carry it). */
  readonly url?: string;
  readonly load: LoadState;
  /** The newest load's token; results of older loads are dropped. */
  readonly token: number;
  /** The page's source: an image chain or a map without its image, as the worker describes it. */
  readonly chain?: ChainInfo;
  /** The worker's bins of the whole image for the heatmap box, sent with the open. */
  readonly firstBins?: Bins;
  /** The heatmap's drawing box, sent with each open (the worker bins the first map for it). */
  readonly gridBox?: GridBox;
  /** Why nothing could be opened (each file's error), shown in place of a map. */
  readonly openErrors: readonly ErrorInfo[];
  readonly view: ViewRange;
  readonly layers: LayerToggles;
  /**
   * The persistent bitmap (by name, as qemu-nbd -B names it) the heatmap's dirty and backup
   * layers show; absent: the first one the chain exports.
   */
  readonly bitmap?: string;
  /** Guest offset of the selected cluster, and the worker's answer for it. */
  readonly selection?: number;
  readonly detail?: Hit;
  /** What the coupled views highlight (highlight.ts). */
  readonly highlight?: Highlight;
  /** The content scan asked for (scan.ts), if any. */
  readonly scan?: ScanState;
  readonly theme: Theme;
  /** The diff view's A and B (issue 4); absent = the single map. */
  readonly diff?: DiffSpec;
  /** Image B open in the worker for the diff's side B (not shared: the spec names it). */
  readonly second?: ChainInfo;
  readonly diffResult: DiffResult;
  /** Bumped to ask for the same diff again (after a cancel). */
  readonly diffRun: number;
  /**
   * The internal snapshot (by name) whose L1 table the map shows; absent = the active L1. The
   * one truth for the Image panel, the URL and the views the page asks the worker for.
   */
  readonly snapshot?: string;
  /** Messages about the link and the image (permalink.ts), newest last. */
  readonly notices: readonly Notice[];
  /** Where the permalink the page was opened with stands (link.ts, urlSync.ts). */
  readonly link: LinkState;
  /** The lesson open as the page's mode (lesson.ts), if any. */
  readonly lesson?: LessonState;
  /** Asking before reading from a host the person did not type (remoteConsent.ts). */
  readonly remote: RemoteConsent;
}

/** Asking before the page reads from a host the person did not type (remoteConsent.ts). */
export type RemoteAsk =
  /** A link names an image by URL: nothing is requested before the person says so. */
  | { readonly kind: 'link'; readonly url: string }
  /** Image `from` (opened from `imageUrl`) names backing file `name`, which lies at `url` on another origin. */
  | {
      readonly kind: 'backing';
      readonly url: string;
      readonly name: string;
      readonly from: string;
      readonly imageUrl: string;
    };

export interface RemoteConsent {
  /** The question on screen, if any. */
  readonly ask?: RemoteAsk;
  /**
   * Origins the person typed ("Open by URL") or allowed in this page's life: links to them open
   * without a question (Back and Forward between remote images too). Never in links or storage.
   */
  readonly origins: readonly string[];
}

export const NO_CONSENT: RemoteConsent = { origins: [] };

/** The content scan asked for (scan.ts): running, read (and shown or not), or stopped. */
export type ScanState =
  | { readonly status: 'running'; readonly done: number; readonly total: number; readonly view: string }
  | { readonly status: 'done'; readonly info: ScanInfo; readonly view: string; readonly shown: boolean }
  | { readonly status: 'cancelled' | 'failed'; readonly error?: string; readonly view: string };

/** The lesson open as the page's mode (state/lesson.ts). */
export interface LessonState {
  readonly id: string;
  readonly step: number;
  /** The step's answer is shown (answered, or asked for). */
  readonly revealed: boolean;
  /** What the reader picked; absent when they asked for the answer. */
  readonly picked?: string;
  /** The engine's answer, with its explanation, once revealed. */
  readonly answer?: { readonly label: string; readonly explain: string };
  readonly busy: boolean;
  readonly error?: string;
  /** The top whose chain is open for this lesson (steps on the same top reuse it). */
  readonly opened?: string;
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
  /** A new load begins; returns its token. What it came from (a sample, a URL); the old map stays until it delivers. */
  startLoad(files: readonly { name: string; size: number }[], from?: OpenOrigin): number;
  progress(token: number, phase: string, done: number, total: number): void;
  /** A first part of the map while loading; the view is kept across parts of one load. */
  partial(token: number, o: Opened): void;
  opened(token: number, o: Opened): void;
  /** The load failed; `keepMap`: the part of the map it delivered stays on screen (a budget ended it). */
  failed(token: number, errors: readonly ErrorInfo[], keepMap?: boolean): void;
  /** The worker stopped: whatever was loading or shown is gone. */
  stopped(error: ErrorInfo): void;
  setGridBox(box: GridBox | undefined): void;
  setView(v: ViewRange): void;
  zoom(factor: number, anchor?: number): void;
  pan(bytes: number): void;
  resetView(): void;
  toggleLayer(id: LayerId): void;
  setLayers(layers: LayerToggles): void;
  setBitmap(name: string | undefined): void;
  /** Selects a cluster; a range highlight that does not hold it goes. */
  select(offset: number | undefined): void;
  setHighlight(h: Highlight | undefined): void;
  setScan(s: ScanState | undefined): void;
  setDetail(detail: Hit | undefined): void;
  setTheme(t: Theme): void;
  setDiff(d: DiffSpec | undefined): void;
  setSecond(s: ChainInfo | undefined): void;
  setDiffResult(r: DiffResult): void;
  rerunDiff(): void;
  setSnapshot(name: string | undefined): void;
  setLink(l: LinkState): void;
  setLesson(l: LessonState | undefined): void;
  setRemote(r: RemoteConsent): void;
  notify(level: Notice['level'], text: string): void;
  dismissNotices(): void;
}

export type Store = ReturnType<typeof createAppStore>;

const idle: LoadState = { status: 'idle', phase: '', done: 0, total: 0 };
/** Notices kept at most: the newest few messages, never a growing list. */
export const MAX_NOTICES = 4;

/** `state` without the optional keys named (exactOptionalPropertyTypes: absent, not undefined). */
function without<T extends object, K extends keyof T>(state: T, ...keys: K[]): Omit<T, K> {
  const out = { ...state };
  for (const k of keys) delete out[k];
  return out;
}

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
    const current = (token: number) => token === get().token;
    /** Sets optional key `k` to `v`, or removes it (exactOptionalPropertyTypes: absent, not undefined). */
    const put = <K extends keyof AppState>(k: K, v: AppState[K] | undefined) => {
      if (v !== undefined) set({ [k]: v } as Pick<AppState, K>);
      else if (k in get()) set(without(get(), k) as AppState & AppActions, true);
    };
    /** The map of a load: the first part of a load shows the whole image; later parts keep the view. */
    const show = (o: Opened, load: LoadState) => {
      const s = get();
      const sameLoad = s.chain !== undefined && s.chain.id === o.info.id;
      set({
        chain: o.info,
        ...(o.firstBins ? { firstBins: o.firstBins } : {}),
        view: sameLoad ? s.view : fullView(o.info.length),
        load,
        openErrors: [],
      });
      if (!o.firstBins) put('firstBins', undefined);
    };
    return {
      files: [],
      load: idle,
      token: 0,
      openErrors: [],
      notices: [],
      view: { start: 0, end: 0 },
      layers: DEFAULT_LAYERS,
      theme: 'system',
      diffResult: { status: 'idle' },
      diffRun: 0,
      link: NO_LINK,
      remote: NO_CONSENT,
      ...init,

      startLoad: (files, from = {}) => {
        const token = get().token + 1;
        set(
          {
            ...without(get(), 'sample', 'url', 'selection', 'detail', 'snapshot', 'highlight', 'scan'),
            token,
            files,
            ...(from.sample !== undefined && { sample: from.sample }),
            ...(from.url !== undefined && { url: from.url }),
            load: { status: 'loading', phase: 'opening', done: 0, total: 0 },
            openErrors: [],
          },
          true,
        );
        return token;
      },
      progress: (token, phase, done, total) => {
        if (current(token)) set({ load: { status: 'loading', phase, done, total } });
      },
      partial: (token, o) => {
        if (current(token)) show(o, get().load);
      },
      opened: (token, o) => {
        if (current(token)) show(o, { status: 'ready', phase: 'done', done: 1, total: 1 });
      },
      failed: (token, errors, keepMap = false) => {
        if (!current(token)) return;
        if (keepMap && get().chain) {
          set({ openErrors: errors, load: { ...idle, status: 'error' } });
          return;
        }
        set(
          {
            ...without(get(), 'chain', 'selection', 'detail', 'firstBins', 'highlight', 'scan'),
            openErrors: errors,
            load: { ...idle, status: 'error' },
          },
          true,
        );
      },
      stopped: (error) =>
        set(
          {
            ...without(get(), 'chain', 'selection', 'detail', 'firstBins', 'second', 'highlight', 'scan'),
            openErrors: [error],
            load: { ...idle, status: 'error' },
          },
          true,
        ),
      setGridBox: (box) => {
        const old = get().gridBox;
        if (old?.width === box?.width && old?.maxHeight === box?.maxHeight) return;
        put('gridBox', box);
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
      setBitmap: (name) => put('bitmap', name),
      select: (offset) => {
        const s = get();
        const rest = keepsHighlight(s.highlight, offset)
          ? without(s, 'selection', 'detail')
          : without(s, 'selection', 'detail', 'highlight');
        set(offset === undefined ? rest : { ...rest, selection: offset }, true);
      },
      setHighlight: (h) => put('highlight', h),
      setScan: (scan) => put('scan', scan),
      setDetail: (detail) => {
        if (detail === undefined || detail.offset === get().selection) put('detail', detail);
      },
      setTheme: (theme) => set({ theme }),
      setSnapshot: (name) => {
        // A scan is of one view: another snapshot is another read, never implied.
        if (name !== get().snapshot) put('scan', undefined);
        put('snapshot', name);
      },
      setLink: (link) => set({ link }),
      setLesson: (l) => put('lesson', l),
      setRemote: (remote) => set({ remote }),
      notify: (level, text) => set({ notices: [...get().notices.slice(1 - MAX_NOTICES), { level, text }] }),
      dismissNotices: () => set({ notices: [] }),
      setDiff: (diff) => {
        put('diff', diff);
        reclamp();
      },
      setSecond: (second) => {
        put('second', second);
        reclamp();
      },
      setDiffResult: (diffResult) => set({ diffResult }),
      rerunDiff: () => set({ diffRun: get().diffRun + 1 }),
    };
  });
}
