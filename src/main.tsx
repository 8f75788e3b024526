/** Entry: the store, the worker and its client, the sample list; then the thin React shell. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Client } from './state/client.ts';
import { followDiff } from './state/diffFollow.ts';
import { errorOf, fetchSample, followSelection, openFiles } from './state/loader.ts';
import { openAnyFiles, openLinkSource, startFromLink } from './state/permalinkOpen.ts';
import { followSnapshot } from './state/snapshot.ts';
import { createAppStore } from './state/store.ts';
import { bindUrl } from './state/urlSync.ts';
import { App } from './ui/App.tsx';
import { AppContext, type AppServices, type Sample } from './ui/appContext.ts';
import { ErrorBoundary } from './ui/ErrorBoundary.tsx';
import './ui/app.css';

const base = import.meta.env.BASE_URL;
/**
 * Drops anywhere on the page open files, from the first moment: files dropped before the shell
 * is ready (it waits for the sample list) are kept and opened once it is, so a drop right after
 * the page loads is never lost. A drop zone inside the page (the diff view's image B) that took
 * the files marks the event handled (defaultPrevented).
 */
let openDropped: ((files: File[]) => void) | undefined;
let early: File[] | undefined;
window.addEventListener('dragover', (e) => {
  if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
});
window.addEventListener('drop', (e) => {
  const claimed = e.defaultPrevented;
  e.preventDefault();
  const files = [...(e.dataTransfer?.files ?? [])];
  if (claimed || !files.length) return;
  if (openDropped) openDropped(files);
  else early = files;
});

const store = createAppStore();
// A factory, so a worker that crashed or hung is replaced by a fresh one on the next open.
const client = new Client(
  () => new Worker(new URL('./worker/worker.ts', import.meta.url), { type: 'module' }),
);
client.onStopped = (error) => store.getState().stopped(error);
// A worker replaced because it did not end older work in time (client.ts SUPERSEDE_MS): said in words.
client.onRestarted = (message) => store.getState().notify('warn', message);
followSelection(store, client);
followSnapshot(store, client);
followDiff(store, client);
const fromUrl = bindUrl(
  store,
  {
    get: () => window.location.hash,
    // pushState for deliberate navigation, replaceState while dragging (urlSync.ts).
    set: (h, mode) =>
      mode === 'push' ? window.history.pushState(null, '', h) : window.history.replaceState(null, '', h),
    onPop: (cb) => {
      window.addEventListener('popstate', cb);
      return () => window.removeEventListener('popstate', cb);
    },
  },
  // A hash changed in the open page to another remote image or another map: open it.
  (link) => void openLinkSource(store, client, link),
);

async function loadSamples(): Promise<Sample[]> {
  try {
    const r = await fetch(`${base}samples/index.json`);
    return r.ok ? ((await r.json()) as { samples: Sample[] }).samples : [];
  } catch {
    return [];
  }
}

const samples = await loadSamples();
const services: AppServices = {
  store,
  client,
  samples,
  openFiles: (files) => void openAnyFiles(store, client, files, (images) => openFiles(store, client, images)),
  openSample: (id) => {
    const s = samples.find((x) => x.id === id);
    if (!s) return;
    // An open the person started while the sample was fetched (a drop, a pick) is newer: it wins.
    const asked = store.getState().token;
    const still = () => store.getState().token === asked;
    fetchSample(base, s.id, s.files).then(
      (files) => {
        if (still()) void openFiles(store, client, files, s.id);
      },
      (e: unknown) => {
        const st = store.getState();
        if (still()) st.failed(st.startLoad([{ name: s.id, size: 0 }]), [errorOf(e, s.id, 'sample')]);
      },
    );
  },
};

openDropped = services.openFiles;
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <AppContext.Provider value={services}>
      <ErrorBoundary>
        <App />
      </ErrorBoundary>
    </AppContext.Provider>
  </StrictMode>,
);

const first = samples.find((s) => s.id === fromUrl.sample) ?? samples[0];
// A drop that came before the shell wins over the first sample (and over a link's own source).
if (early) services.openFiles(early);
else startFromLink(store, client, fromUrl, () => first && services.openSample(first.id));
