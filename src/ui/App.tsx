/** The app shell: layout only. Each panel reads the store itself. */
import { useEffect } from 'react';
import { useApp } from './appContext.ts';
import { ChainPanel } from './ChainPanel.tsx';
import { DropTarget, FilePicker } from './DropZone.tsx';
import { DiffPicker } from './diff/DiffPicker.tsx';
import { DiffView } from './diff/DiffView.tsx';
import { ErrorPanel } from './ErrorPanel.tsx';
import { ExportPanel } from './ExportPanel.tsx';
import { ExtentTable } from './ExtentTable.tsx';
import { Heatmap } from './Heatmap.tsx';
import { ImagePanel } from './ImagePanel.tsx';
import { Inspector } from './Inspector.tsx';
import { Legend } from './Legend.tsx';
import { LessonsPanel } from './lessons/LessonsPanel.tsx';
import { ProgressBar } from './ProgressBar.tsx';
import { PALETTES } from './palette.ts';
import { SampleGallery } from './SampleGallery.tsx';
import { RemoteOpen } from './sandbox/RemoteOpen.tsx';
import { SandboxPanel } from './sandbox/SandboxPanel.tsx';
import { LinkNotices } from './share/LinkNotices.tsx';
import { MapPaste } from './share/MapPaste.tsx';
import { RemoteAsk } from './share/RemoteAsk.tsx';
import { SharePanel } from './share/SharePanel.tsx';
import { ThemeToggle, useResolvedTheme } from './ThemeToggle.tsx';
import { Tracks } from './Tracks.tsx';

export function App() {
  const theme = useResolvedTheme();
  const palette = PALETTES[theme];
  const files = useApp((s) => s.files);
  const comparing = useApp((s) => s.diff !== undefined);
  const chain = useApp((s) => s.chain);
  // A map without its image: no image-only panels (inspector, chain, export).
  const mapOnly = chain?.mapOnly !== undefined;
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  return (
    <DropTarget>
      <header className="app-header">
        <h1>clusterscope</h1>
        <p className="files" aria-live="polite">
          {files.map((f) => f.name).join(', ') || 'No image open'}
        </p>
        <FilePicker />
        <ThemeToggle />
      </header>
      <ProgressBar />
      <main className="app-main">
        <div className="map-column">
          <LinkNotices />
          <RemoteAsk />
          <ErrorPanel />
          {comparing && (
            <>
              <DiffPicker />
              <DiffView theme={theme} />
            </>
          )}
          {chain && !comparing && (
            <>
              <Heatmap theme={theme} chain={chain} />
              <Legend palette={palette} />
              <Tracks palette={palette} chain={chain} />
              <ExtentTable chain={chain} />
              <DiffPicker />
            </>
          )}
          {!mapOnly && <ExportPanel />}
          <SharePanel />
          <p className="hint">
            Drop a qcow2 image (or a whole backing chain at once) anywhere on the page. Files are read in this
            tab only; nothing is uploaded.
          </p>
        </div>
        <aside className="side-column">
          {!mapOnly && <Inspector />}
          {!mapOnly && <ChainPanel />}
          {!mapOnly && <ImagePanel palette={palette} />}
          <MapPaste />
          <SampleGallery />
          <RemoteOpen />
          <LessonsPanel />
          <SandboxPanel />
        </aside>
      </main>
    </DropTarget>
  );
}
