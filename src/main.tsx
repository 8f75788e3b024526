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
const store = createAppStore();
// A factory, so a worker that crashed or hung is replaced by a fresh one on the next open.
const client = new Client(
  () => new Worker(new URL('./worker/worker.ts', import.meta.url), { type: 'module' }),
);
client.onStopped = (error) => store.getState().stopped(error);
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
    fetchSample(base, s.id, s.files).then(
      (files) => openFiles(store, client, files, s.id),
      (e: unknown) => {
        const st = store.getState();
        st.failed(st.startLoad([{ name: s.id, size: 0 }]), [errorOf(e, s.id, 'sample')]);
      },
    );
  },
};

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
startFromLink(store, client, fromUrl, () => first && services.openSample(first.id));
