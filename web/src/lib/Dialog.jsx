// A modal confirmation dialog: title, body, and the page's own action buttons; Escape or
// "Cancel" closes it. The first input (or button) gets the focus when it opens.
import { useEffect, useRef } from 'preact/hooks';

export function Dialog({ title, testid, onClose, children, actions, busy }) {
  const box = useRef(null);
  useEffect(() => {
    const first = box.current?.querySelector('input, select, textarea, button.primary');
    if (first) first.focus();
    const onKey = (e) => {
      if (e.key === 'Escape' && !busy) onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  return (
    <div class="overlay">
      <div class="dialog" role="dialog" aria-modal="true" aria-label={title} data-testid={testid} ref={box}>
        <h2>{title}</h2>
        <div class="dialog-body">{children}</div>
        <div class="dialog-actions">
          {actions}
          <button type="button" data-testid="dialog-cancel" onClick={onClose} disabled={busy}>
            {actions ? 'Cancel' : 'Close'}
          </button>
        </div>
      </div>
    </div>
  );
}
