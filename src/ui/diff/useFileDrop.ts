/**
 * Files dropped on one element (not the page): `onFiles` gets them and the drop's default is
 * prevented, which tells the page's own drop handler (DropZone.tsx) to leave them alone.
 * Returns whether files are being dragged over the element, for a hint.
 */
import { type RefObject, useEffect, useState } from 'react';

const hasFiles = (e: DragEvent) => e.dataTransfer?.types.includes('Files') ?? false;

export function useFileDrop(ref: RefObject<HTMLElement | null>, onFiles: (files: File[]) => void): boolean {
  const [over, setOver] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const enter = (e: DragEvent) => {
      if (hasFiles(e)) setOver(true);
    };
    const dragOver = (e: DragEvent) => {
      if (hasFiles(e)) e.preventDefault();
    };
    const leave = (e: DragEvent) => {
      if (!el.contains(e.relatedTarget as Node | null)) setOver(false);
    };
    const drop = (e: DragEvent) => {
      setOver(false);
      if (!hasFiles(e)) return;
      e.preventDefault();
      onFiles([...(e.dataTransfer?.files ?? [])]);
    };
    el.addEventListener('dragenter', enter);
    el.addEventListener('dragover', dragOver);
    el.addEventListener('dragleave', leave);
    el.addEventListener('drop', drop);
    return () => {
      el.removeEventListener('dragenter', enter);
      el.removeEventListener('dragover', dragOver);
      el.removeEventListener('dragleave', leave);
      el.removeEventListener('drop', drop);
    };
  }, [ref, onFiles]);
  return over;
}
