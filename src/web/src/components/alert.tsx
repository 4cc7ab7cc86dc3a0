import { AlertIcon } from './icons.tsx';

/** Every API failure ends up here, in words, announced to screen readers. */
export function ErrorAlert({ message, onDismiss }: { message: string | null; onDismiss?: () => void }) {
  if (message === null || message === '') return null;
  return (
    <div className="alert alert-error" role="alert">
      <AlertIcon className="alert-icon" />
      <span className="alert-text">{message}</span>
      {onDismiss && (
        <button type="button" className="alert-dismiss" onClick={onDismiss} aria-label="Dismiss message">×</button>
      )}
    </div>
  );
}
