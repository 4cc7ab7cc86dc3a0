import { useState, type ReactNode } from 'react';
import { errorText } from '../api/http.ts';
import { ErrorAlert } from './alert.tsx';
import { Modal, ModalActions } from './modal.tsx';

interface ConfirmDialogProps {
  title: string;
  confirmLabel: string;
  /** The dismiss button's label (default "Cancel"), e.g. "Keep running" when the action itself is a cancel. */
  dismissLabel?: string;
  danger?: boolean;
  children: ReactNode;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}

/** Yes/no dialog whose confirm runs a request; a refusal stays visible inside the dialog. */
export function ConfirmDialog({ title, confirmLabel, dismissLabel, danger, children, onConfirm, onClose }: ConfirmDialogProps) {
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
          <ModalActions onCancel={onClose} busy={busy} cancelLabel={error ? 'Close' : dismissLabel ?? 'Cancel'} label={confirmLabel} onConfirm={confirm} danger={danger} />
        </div>
      )}
    </Modal>
  );
}
