/** Messages about the link and the image: same image, different image, a damaged link. */
import { useApp } from '../appContext.ts';
import './share.css';

export function LinkNotices() {
  const notices = useApp((s) => s.notices);
  const dismiss = useApp((s) => s.dismissNotices);
  if (!notices.length) return null;
  return (
    <section className="link-notices" aria-label="About this link" data-testid="link-notices">
      {notices.map((n) => (
        <p key={n.text} className={`notice notice-${n.level}`} role={n.level === 'info' ? 'status' : 'alert'}>
          {n.text}
        </p>
      ))}
      <button type="button" onClick={dismiss}>
        Dismiss
      </button>
    </section>
  );
}
