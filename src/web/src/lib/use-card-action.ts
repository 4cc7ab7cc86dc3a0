/**
 * One action at a time on a settings card: `run` clears the last message, marks the card busy,
 * and ends with the action's own notice or its error in words — the same steps every card repeated.
 */
import { useState } from 'react';
import { errorText } from '../api/http.ts';

export function useCardAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  /** `action` resolves to the notice to show; `describe` turns a failure into the sentence shown. */
  const run = async (action: () => Promise<string>, describe: (err: unknown) => string = errorText): Promise<void> => {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      setNotice(await action());
    } catch (err) {
      setError(describe(err));
    } finally {
      setBusy(false);
    }
  };

  return { busy, error, notice, setError, run };
}
