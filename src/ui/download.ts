/** Saves text or bytes made in the page as a local file (a download; nothing leaves the machine). */
export function download(data: string | Uint8Array, name: string, type = 'text/plain'): void {
  const url = URL.createObjectURL(new Blob([data as BlobPart], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
