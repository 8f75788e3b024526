/** Bundled QEMU-made samples (public/samples), fetched from this origin only. */
import { useApp, useServices } from './appContext.ts';

export function SampleGallery() {
  const { samples, openSample } = useServices();
  const current = useApp((s) => s.sample);
  return (
    <nav className="samples" aria-label="Sample images">
      <h2>Samples</h2>
      <ul>
        {samples.map((s) => (
          <li key={s.id}>
            <button
              type="button"
              aria-pressed={current === s.id}
              title={s.description}
              onClick={() => openSample(s.id)}
            >
              {s.title}
              <small>{s.files.join(' → ')}</small>
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
