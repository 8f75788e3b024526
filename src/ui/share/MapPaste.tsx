/**
 * A paste box for maps made elsewhere: `qemu-img map --output=json`, `nbdinfo --map` text or
 * `--json`, or a clusterscope map file. Parsed in the worker (core/import/mapFile.ts).
 */
import { useState } from 'react';
import { openMapText } from '../../state/permalinkOpen.ts';
import { useServices } from '../appContext.ts';

export function MapPaste() {
  const { store, client } = useServices();
  const [text, setText] = useState('');
  return (
    <details className="panel map-paste">
      <summary>Paste a map (qemu-img map JSON, nbdinfo --map)</summary>
      <p className="hint">
        Run <code>qemu-img map --output=json IMAGE</code> or <code>nbdinfo --map URI</code> where the image
        lives and paste the output here (or drop the saved file): no need to copy the image.
      </p>
      <textarea
        aria-label="Map text"
        rows={5}
        value={text}
        onChange={(e) => setText(e.currentTarget.value)}
        spellCheck={false}
      />
      <button
        type="button"
        disabled={!text.trim()}
        onClick={() => void openMapText(store, client, 'pasted map', text)}
      >
        Show map
      </button>
    </details>
  );
}
