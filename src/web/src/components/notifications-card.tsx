import { useEffect, useId, useState, type FormEvent } from 'react';
import type { NotificationWebhookObject } from '../../../wire/notifications.ts';
import { api } from '../api/client.ts';
import { errorText, fieldErrors } from '../api/http.ts';
import { ErrorAlert } from './alert.tsx';
import { Spinner } from './icons.tsx';
import { useCardAction } from '../lib/use-card-action.ts';

type Webhook = NotificationWebhookObject['attributes'];

/**
 * The server's notification webhooks (a backwing extension): called when a backup or restore
 * completes or fails. Needs backup.delete. The secret is write-only, so the list only says
 * whether one is set.
 */
export function NotificationsCard({ server }: { server: string }) {
  const [hooks, setHooks] = useState<Webhook[] | null>(null);
  const [url, setUrl] = useState('');
  const [secret, setSecret] = useState('');
  const [format, setFormat] = useState<'generic' | 'discord'>('generic');
  const [fields, setFields] = useState<Record<string, string>>({});
  const { busy, error, notice, setError, run } = useCardAction();
  const idBase = useId();

  const load = () => api.webhooks(server).then((r) => setHooks(r.data.map((d) => d.attributes)), (err: unknown) => setError(errorText(err)));
  useEffect(() => { void load(); }, [server]);

  const onAdd = async (e: FormEvent) => {
    e.preventDefault();
    setFields({});
    await run(async () => {
      await api.addWebhook(server, { url: url.trim(), format, ...(secret !== '' ? { secret } : {}) });
      setUrl('');
      setSecret('');
      await load();
      return 'Webhook added. It is called when a backup or restore of this server completes or fails.';
    }, (err) => {
      const byField = fieldErrors(err);
      setFields(byField);
      return Object.keys(byField).length > 0 ? 'Some values are not valid; each is explained next to its field.' : errorText(err);
    });
  };

  const onRemove = (uuid: string) => run(async () => {
    await api.removeWebhook(server, uuid);
    await load();
    return 'Webhook removed.';
  });

  return (
    <section className="card notifications" aria-labelledby={`${idBase}-title`} data-testid="notifications-card">
      <div className="card-head">
        <h2 id={`${idBase}-title`}>Notifications</h2>
        <p className="hint">
          Webhooks called when a backup or a restore completes or fails. Generic bodies are signed with the secret
          (X-Backwing-Signature); a Discord webhook URL works with the Discord format.
        </p>
      </div>
      {!hooks && !error && <div className="loading"><Spinner label="Loading webhooks" /></div>}
      {hooks && (hooks.length === 0
        ? <p className="hint">No webhooks yet.</p>
        : (
          <ul className="webhook-list" aria-label="Webhooks">
            {hooks.map((h) => (
              <li key={h.uuid}>
                <span className="webhook-url">{h.url}</span>
                <span className="hint"> {h.format}{h.has_secret ? ', signed' : ''}</span>
                <button type="button" className="btn btn-small btn-secondary" disabled={busy} aria-label={`Remove webhook ${h.url}`}
                  onClick={() => { void onRemove(h.uuid); }}>Remove</button>
              </li>
            ))}
          </ul>
        ))}
      <form className="webhook-form" onSubmit={(e) => { void onAdd(e); }} noValidate>
        <div className="field">
          <label htmlFor={`${idBase}-url`}>Webhook URL</label>
          <input id={`${idBase}-url`} name="url" type="url" placeholder="https://example.com/hooks/backups" value={url}
            aria-invalid={fields.url ? true : undefined} aria-describedby={`${idBase}-url-hint`} onChange={(e) => setUrl(e.target.value)} />
          <p id={`${idBase}-url-hint`} className={`hint ${fields.url ? 'hint-danger' : ''}`}>{fields.url ?? 'http:// or https://'}</p>
        </div>
        <div className="field">
          <label htmlFor={`${idBase}-format`}>Format</label>
          <select id={`${idBase}-format`} className="select" name="format" value={format} onChange={(e) => setFormat(e.target.value === 'discord' ? 'discord' : 'generic')}>
            <option value="generic">Generic JSON</option>
            <option value="discord">Discord</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${idBase}-secret`}>Secret (optional)</label>
          <input id={`${idBase}-secret`} name="secret" type="password" autoComplete="off" value={secret}
            aria-invalid={fields.secret ? true : undefined} aria-describedby={`${idBase}-secret-hint`} onChange={(e) => setSecret(e.target.value)} />
          <p id={`${idBase}-secret-hint`} className={`hint ${fields.secret ? 'hint-danger' : ''}`}>{fields.secret ?? '8 to 255 characters; never shown again'}</p>
        </div>
        <ErrorAlert message={error} />
        <div className="card-notice" role="status" aria-live="polite">{notice}</div>
        <div className="card-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>{busy && <Spinner />} Add webhook</button>
        </div>
      </form>
    </section>
  );
}
