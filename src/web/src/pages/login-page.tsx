import { useId, useState, type FormEvent } from 'react';
import { api, type User } from '../api/client.ts';
import { errorText } from '../api/http.ts';
import { ErrorAlert } from '../components/alert.tsx';
import { Spinner } from '../components/icons.tsx';

export function LoginPage({ onSignedIn }: { onSignedIn: (user: User) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const emailId = useId();
  const passwordId = useId();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await api.login(email.trim(), password);
      onSignedIn(res.attributes);
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <form className="card login-card form" onSubmit={submit} aria-labelledby="login-title">
        <div className="brand brand-large" aria-hidden="true"><span className="brand-mark">bw</span> backwing</div>
        <h1 id="login-title">Sign in</h1>
        <div className="field">
          <label htmlFor={emailId}>Email</label>
          <input id={emailId} name="email" type="email" autoComplete="username" required autoFocus
            value={email} onChange={(e) => setEmail(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={passwordId}>Password</label>
          <input id={passwordId} name="password" type="password" autoComplete="current-password" required
            value={password} onChange={(e) => setPassword(e.target.value)} />
        </div>
        <ErrorAlert message={error} />
        <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
          {busy && <Spinner />} Sign in
        </button>
      </form>
    </main>
  );
}
