import { useEffect, useId, useState, type FormEvent } from 'react';
import { api, type RetentionPolicyAttributes, type RetentionPreview } from '../api/client.ts';
import { errorText, fieldErrors } from '../api/http.ts';
import { retentionReason } from '../lib/cron-text.ts';
import { formatExact, formatRelative } from '../lib/format.ts';
import { ErrorAlert } from './alert.tsx';
import { LockIcon, Spinner } from './icons.tsx';

type Rule = keyof RetentionPolicyAttributes;
type Entry = RetentionPreview['attributes']['keep'][number];

const RULES: Array<{ key: Rule; label: string; hint: string }> = [
  { key: 'keep_last', label: 'Keep last', hint: 'newest backups' },
  { key: 'keep_hourly', label: 'Hourly', hint: 'hours' },
  { key: 'keep_daily', label: 'Daily', hint: 'days' },
  { key: 'keep_weekly', label: 'Weekly', hint: 'weeks' },
  { key: 'keep_monthly', label: 'Monthly', hint: 'months' },
];

type Form = Record<Rule, string>;

const toForm = (p: RetentionPolicyAttributes): Form =>
  Object.fromEntries(RULES.map(({ key }) => [key, p[key] === null || p[key] === 0 ? '' : String(p[key])])) as Form;

/** Empty = off. Anything else goes to the panel as typed when it is not a whole number, so its 422 explains. */
const toPolicy = (f: Form): RetentionPolicyAttributes =>
  Object.fromEntries(RULES.map(({ key }) => {
    const v = f[key].trim();
    if (v === '') return [key, null];
    const n = Number(v);
    return [key, Number.isInteger(n) ? n : v];
  })) as RetentionPolicyAttributes;

/** The server's retention policy (a backwing extension) with its dry run. Needs backup.delete. */
export function RetentionCard({ server, now }: { server: string; now: number }) {
  const [form, setForm] = useState<Form | null>(null);
  const [updatedAt, setUpdatedAt] = useState<string | null>(null);
  const [busy, setBusy] = useState<'save' | 'preview' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [notice, setNotice] = useState<string | null>(null);
  const [preview, setPreview] = useState<RetentionPreview['attributes'] | null>(null);
  const idBase = useId();

  useEffect(() => {
    api.retention(server).then(
      (res) => { setForm(toForm(res.attributes)); setUpdatedAt(res.attributes.updated_at); },
      (err: unknown) => setError(errorText(err)),
    );
  }, [server]);

  const run = async (kind: 'save' | 'preview') => {
    if (!form) return;
    setBusy(kind);
    setError(null);
    setFields({});
    setNotice(null);
    try {
      if (kind === 'save') {
        const res = await api.saveRetention(server, toPolicy(form));
        setForm(toForm(res.attributes));
        setUpdatedAt(res.attributes.updated_at);
        setNotice('Retention policy saved. It applies after the next successful backup; Preview shows what that will remove.');
      } else {
        const res = await api.previewRetention(server, toPolicy(form));
        setPreview(res.attributes);
      }
    } catch (err) {
      const byField = fieldErrors(err);
      setFields(byField);
      // Field errors sit next to their inputs; the alert still says something for screen readers.
      setError(Object.keys(byField).length > 0 ? 'Some values are not valid; each is explained next to its field.' : errorText(err));
    } finally {
      setBusy(null);
    }
  };

  const onSubmit = (e: FormEvent) => { e.preventDefault(); void run('save'); };

  return (
    <section className="card retention" aria-labelledby={`${idBase}-title`} data-testid="retention-card">
      <div className="card-head">
        <h2 id={`${idBase}-title`}>Retention policy</h2>
        <p className="hint">
          After every successful backup, older backups that no rule keeps are deleted. Each rule keeps the newest
          backup of its N most recent periods (UTC). Empty means off. Locked backups are never deleted automatically
          and do not use a slot.
          {updatedAt && <> Saved <time dateTime={updatedAt} title={formatExact(updatedAt)}>{formatRelative(updatedAt, now)}</time>.</>}
        </p>
      </div>
      {!form && !error && <div className="loading"><Spinner label="Loading retention policy" /></div>}
      {form && (
        <form className="retention-form" onSubmit={onSubmit} noValidate>
          <div className="retention-fields">
            {RULES.map(({ key, label, hint }) => (
              <div className="field" key={key}>
                <label htmlFor={`${idBase}-${key}`}>{label}</label>
                <input id={`${idBase}-${key}`} name={key} type="number" inputMode="numeric" min={0} max={1000} placeholder="off"
                  value={form[key]} aria-invalid={fields[key] ? true : undefined}
                  aria-describedby={`${idBase}-${key}-hint`}
                  onChange={(e) => setForm({ ...form, [key]: e.target.value })} />
                <p id={`${idBase}-${key}-hint`} className={`hint ${fields[key] ? 'hint-danger' : ''}`}>{fields[key] ?? hint}</p>
              </div>
            ))}
          </div>
          <ErrorAlert message={error} />
          <div className="notice" role="status" aria-live="polite">{notice}</div>
          <div className="card-actions">
            <button type="button" className="btn btn-secondary" disabled={busy !== null} onClick={() => { void run('preview'); }}>
              {busy === 'preview' && <Spinner />} Preview
            </button>
            <button type="submit" className="btn btn-primary" disabled={busy !== null}>
              {busy === 'save' && <Spinner />} Save policy
            </button>
          </div>
        </form>
      )}
      {!form && error && <ErrorAlert message={error} />}
      {preview && (
        <div className="preview" aria-label="Retention preview" role="region">
          <PreviewList title={`Would be deleted (${preview.remove.length})`} entries={preview.remove} kind="remove" now={now}
            empty="Nothing would be deleted." />
          <PreviewList title={`Kept (${preview.keep.length})`} entries={preview.keep} kind="keep" now={now}
            empty="No backups yet." />
        </div>
      )}
    </section>
  );
}

function PreviewList({ title, entries, kind, now, empty }: { title: string; entries: Entry[]; kind: 'keep' | 'remove'; now: number; empty: string }) {
  const id = useId();
  return (
    <div className={`preview-group preview-${kind}`}>
      <h3 id={id}>{title}</h3>
      {entries.length === 0 ? <p className="muted">{empty}</p> : (
        <ul aria-labelledby={id}>
          {entries.map((e) => (
            <li key={e.uuid} aria-label={`${e.name}: ${e.reasons.map(retentionReason).join('; ')}`} data-uuid={e.uuid}>
              <span className="preview-name">
                {e.is_locked && <LockIcon className="icon-locked" />}
                {!e.is_successful && e.completed_at !== null && <span className="badge badge-failed">Failed</span>}
                {e.name}
              </span>
              <span className="preview-reason">{e.reasons.map(retentionReason).join('; ')}</span>
              <time className="muted" dateTime={e.created_at} title={formatExact(e.created_at)}>{formatRelative(e.created_at, now)}</time>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
