/**
 * The app shell: layout only; each panel reads the store itself. The map and what explains it
 * (the inspector, or the lesson's step) stay in view together: side by side on a wide screen,
 * the explanation right under the map on a narrow one, where a click scrolls it into view.
 */
import { useEffect } from 'react';
import { useApp } from './appContext.ts';
import { ChainPanel } from './ChainPanel.tsx';
import { DropTarget, EmptyState, FilePicker, OpenedFiles } from './DropZone.tsx';
import { DiffPicker } from './diff/DiffPicker.tsx';
import { DiffView } from './diff/DiffView.tsx';
import { ErrorPanel } from './ErrorPanel.tsx';
import { ExportPanel } from './ExportPanel.tsx';
import { ExtentTable } from './ExtentTable.tsx';
import { Heatmap } from './Heatmap.tsx';
import { HostHoleNotice } from './HostHoleNotice.tsx';
import { ImagePanel } from './ImagePanel.tsx';
import { Inspector } from './Inspector.tsx';
import { Legend } from './Legend.tsx';
import { LessonStep, LessonsPanel } from './lessons/LessonsPanel.tsx';
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
  const comparing = useApp((s) => s.diff !== undefined);
  const chain = useApp((s) => s.chain);
  // A question of a lesson is open: what would answer it (tables, lanes) waits until it is answered.
  const asking = useApp((s) => s.lesson !== undefined && !s.lesson.revealed);
  const inLesson = useApp((s) => s.lesson !== undefined);
  const mapOnly = chain?.mapOnly !== undefined;
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  return (
    <DropTarget>
      <header className="app-header">
        <h1>clusterscope</h1>
        <OpenedFiles />
        <FilePicker />
        <ThemeToggle />
      </header>
      <ProgressBar />
      <main className="app-main">
        <div className="area-top">
          <LinkNotices />
          <RemoteAsk />
          <ErrorPanel />
        </div>
        <div className="area-map">
          {comparing && (
            <>
              <DiffPicker />
              <DiffView theme={theme} />
            </>
          )}
          {!comparing && chain && (
            <>
              <HostHoleNotice chain={chain} />
              <Heatmap theme={theme} chain={chain} />
              <Legend palette={palette} />
            </>
          )}
          {!comparing && !chain && <EmptyState />}
        </div>
        <aside className="area-explain" aria-label={inLesson ? 'Lesson' : 'Explanation'}>
          {inLesson ? <LessonStep /> : chain && <Inspector />}
        </aside>
        <div className="area-rest">
          {!comparing && chain && !asking && (
            <>
              <Tracks palette={palette} chain={chain} />
              <ExtentTable chain={chain} />
              <DiffPicker />
            </>
          )}
          {asking && (
            <p className="muted lesson-hidden">
              The tracks and the rows are hidden while the lesson's question is open: they would answer it.
            </p>
          )}
          {chain && !mapOnly && <ExportPanel />}
          {chain && <SharePanel />}
        </div>
        <div className="area-side">
          <LessonsPanel />
          <SampleGallery />
          {chain && !mapOnly && <ChainPanel />}
          {chain && !mapOnly && <ImagePanel palette={palette} />}
          <RemoteOpen />
          <MapPaste />
          <SandboxPanel />
        </div>
      </main>
    </DropTarget>
  );
}
