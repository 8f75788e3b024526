/**
 * Opening images: drop files anywhere on the page, or pick them. Several files at once form a
 * backing chain. Nothing is uploaded: the File objects go to the worker, which reads slices.
 * The header says what is open, and says so plainly when it is a bundled sample; with nothing
 * open the map's place is a drop target of its own.
 */
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { useApp, useServices } from './appContext.ts';

/** The drop's overlay while files are dragged over the page (main.tsx opens what is dropped). */
export function DropTarget({ children }: { children: ReactNode }) {
  const [over, setOver] = useState(false);
  const depth = useRef(0);
  useEffect(() => {
    const hasFiles = (e: DragEvent) => e.dataTransfer?.types.includes('Files') ?? false;
    const enter = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth.current++;
      setOver(true);
    };
    const overH = (e: DragEvent) => {
      if (hasFiles(e)) e.preventDefault();
    };
    const leave = () => {
      depth.current = Math.max(0, depth.current - 1);
      if (depth.current === 0) setOver(false);
    };
    const drop = () => {
      depth.current = 0;
      setOver(false);
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragover', overH);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragover', overH);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, []);
  return (
    <>
      {children}
      {over && (
        <div className="drop-overlay" data-testid="drop-overlay" aria-hidden="true">
          <p>
            Drop a disk image, or a whole backing chain at once. It is read here, in this tab; nothing is
            uploaded.
          </p>
        </div>
      )}
    </>
  );
}

export function FilePicker({ label = 'Open images…' }: { label?: string }) {
  const { openFiles } = useServices();
  return (
    <label className="file-picker">
      <span>{label}</span>
      <input
        type="file"
        multiple
        aria-label="Open disk images (several files form a backing chain)"
        onChange={(e) => {
          const files = [...(e.currentTarget.files ?? [])];
          if (files.length) openFiles(files);
          e.currentTarget.value = '';
        }}
      />
    </label>
  );
}

/** What is open, in the header: file names, and a plain word when it is a bundled sample. */
export function OpenedFiles() {
  const { samples } = useServices();
  const files = useApp((s) => s.files);
  const sampleId = useApp((s) => s.sample);
  const sample = samples.find((x) => x.id === sampleId);
  return (
    <div className="opened" aria-live="polite">
      {sample && (
        <p className="sample-note" data-testid="sample-badge">
          <span className="sample-badge">Sample: {sample.title}</span>{' '}
          <span className="muted">made with QEMU; drop your own image to replace it</span>
        </p>
      )}
      <p className="files">{files.map((f) => f.name).join(', ') || 'No image open'}</p>
    </div>
  );
}

/** The map's place when nothing is open: a drop target that says what to do. */
export function EmptyState() {
  const loading = useApp((s) => s.load.status === 'loading');
  return (
    <section className="empty-state" data-testid="empty-state" aria-label="Open an image">
      <h2>{loading ? 'Opening…' : 'Drop a qcow2 or raw image here'}</h2>
      <p>
        A single image, or a whole backing chain at once (the files are matched by their backing file names).
        Maps made by <code>qemu-img map --output=json</code> or <code>nbdinfo --map</code> open too.
      </p>
      <p className="muted">
        The files are read in this tab with the File API, metadata only. Nothing is uploaded.
      </p>
      <FilePicker label="Choose files…" />
    </section>
  );
}
