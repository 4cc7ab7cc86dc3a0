import { useState, type ReactNode } from 'react';
import { errorText } from '../api/http.ts';
import { ErrorAlert } from './alert.tsx';
import { Modal } from './modal.tsx';
import { Spinner } from './icons.tsx';

interface ConfirmDialogProps {
  title: string;
  confirmLabel: string;
  danger?: boolean;
  children: ReactNode;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}

/** Yes/no dialog whose confirm runs a request; a refusal stays visible inside the dialog. */
export function ConfirmDialog({ title, confirmLabel, danger, children, onConfirm, onClose }: ConfirmDialogProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };

  return (
    <Modal title={title} onClose={onClose} busy={busy}>
      {() => (
        <div className="modal-body">
          {children}
          <ErrorAlert message={error} />
          <div className="modal-actions">
            <button type="button" className="btn btn-secondary" onClick={onClose} disabled={busy}>
              {error ? 'Close' : 'Cancel'}
            </button>
            <button type="button" className={`btn ${danger ? 'btn-danger' : 'btn-primary'}`} onClick={confirm} disabled={busy}>
              {busy && <Spinner />}
              {confirmLabel}
            </button>
          </div>
        </div>
      )}
    </Modal>
  );
}
