import { useEffect, useId, useRef, type ReactNode } from 'react';
import { Spinner } from './icons.tsx';

interface ModalProps {
  title: string;
  onClose: () => void;
  /** While true, Escape does not close (a request is in flight). */
  busy?: boolean;
  children: (titleId: string) => ReactNode;
}

/**
 * A native <dialog> opened with showModal(): the browser traps focus and makes the page inert.
 * On close, focus goes back to the button that opened it, or to the page heading if that button
 * is gone (its row was deleted).
 */
export function Modal({ title, onClose, busy = false, children }: ModalProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const busyRef = useRef(busy);
  busyRef.current = busy;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    const first = dialog.querySelector<HTMLElement>('[autofocus], input, textarea, select, button');
    first?.focus();
    return () => {
      if (dialog.open) dialog.close();
      const target = opener && opener.isConnected ? opener : document.getElementById('page-title');
      target?.focus();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      className="modal"
      role="dialog"
      aria-modal="true"
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        if (!busyRef.current) onClose();
      }}
    >
      <h2 id={titleId} className="modal-title">{title}</h2>
      {children(titleId)}
    </dialog>
  );
}

interface ModalActionsProps {
  onCancel: () => void;
  busy: boolean;
  cancelLabel?: string;
  /** The primary button: a form submit, or a plain button with its own onClick. */
  label: string;
  onConfirm?: () => void;
  danger?: boolean;
}

/** Cancel + primary button row shared by every dialog; the primary shows a spinner while busy. */
export function ModalActions({ onCancel, busy, cancelLabel = 'Cancel', label, onConfirm, danger = false }: ModalActionsProps) {
  return (
    <div className="modal-actions">
      <button type="button" className="btn btn-secondary" onClick={onCancel} disabled={busy}>{cancelLabel}</button>
      <button type={onConfirm ? 'button' : 'submit'} className={`btn ${danger ? 'btn-danger' : 'btn-primary'}`} onClick={onConfirm} disabled={busy}>
        {busy && <Spinner />}
        {label}
      </button>
    </div>
  );
}
