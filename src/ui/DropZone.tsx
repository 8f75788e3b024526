/**
 * Opening images: drop files anywhere on the page, or pick them. Several files at once form a
 * backing chain. Nothing is uploaded: the File objects go to the worker, which reads slices.
 */
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { useServices } from './appContext.ts';

export function DropTarget({ children }: { children: ReactNode }) {
  const { openFiles } = useServices();
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
    const drop = (e: DragEvent) => {
      // A drop zone inside the page took these files already (the diff view's image B).
      const claimed = e.defaultPrevented;
      e.preventDefault();
      depth.current = 0;
      setOver(false);
      if (claimed) return;
      const files = [...(e.dataTransfer?.files ?? [])];
      if (files.length) openFiles(files);
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
  }, [openFiles]);
  return (
    <>
      {children}
      {over && (
        <div className="drop-overlay" aria-hidden="true">
          Drop a disk image, or a whole backing chain at once
        </div>
      )}
    </>
  );
}

export function FilePicker() {
  const { openFiles } = useServices();
  return (
    <label className="file-picker">
      <span>Open images…</span>
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
