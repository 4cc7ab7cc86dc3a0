import { useId, useRef, useState, type FormEvent } from 'react';
import { api, type ScheduleAttributes } from '../api/client.ts';
import { ApiError, errorText, fieldErrors } from '../api/http.ts';
import { CRON_PRESETS, describeCron, type CronFields } from '../lib/cron-text.ts';
import { normaliseIgnored } from '../lib/format.ts';
import { ErrorAlert } from './alert.tsx';
import { IGNORE_EXAMPLES } from './create-backup-dialog.tsx';
import { Modal, ModalActions } from './modal.tsx';

interface Props {
  server: string;
  /** null = a new schedule. */
  schedule: ScheduleAttributes | null;
  onSaved: (schedule: ScheduleAttributes) => void;
  onClose: () => void;
}

const CRON_FIELDS: Array<{ key: keyof CronFields; label: string }> = [
  { key: 'minute', label: 'Minute' },
  { key: 'hour', label: 'Hour' },
  { key: 'day_of_month', label: 'Day of month' },
  { key: 'month', label: 'Month' },
  { key: 'day_of_week', label: 'Day of week' },
];

/** The UI keeps one backup task per schedule; other tasks made through the API are left alone. */
export const backupTaskOf = (s: ScheduleAttributes) =>
  s.relationships.tasks.data.map((t) => t.attributes).find((t) => t.action === 'backup') ?? null;

export function ScheduleDialog({ server, schedule, onSaved, onClose }: Props) {
  const task = schedule ? backupTaskOf(schedule) : null;
  const [name, setName] = useState(schedule?.name ?? '');
  const [cron, setCron] = useState<CronFields>(schedule?.cron ?? CRON_PRESETS[2]!.fields);
  const [active, setActive] = useState(schedule?.is_active ?? true);
  const [ignored, setIgnored] = useState(task?.payload ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  /** A schedule created by an earlier attempt whose task then failed: the next Save updates it. */
  const saved = useRef<ScheduleAttributes | null>(schedule);
  const id = useId();

  const preset = CRON_PRESETS.findIndex((p) => CRON_FIELDS.every(({ key }) => p.fields[key] === cron[key]));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setFields({});
    let step: 'schedule' | 'task' = 'schedule';
    try {
      const body = { name: name.trim(), ...cron, is_active: active };
      const current = saved.current;
      const res = current ? await api.updateSchedule(server, current.id, body) : await api.createSchedule(server, body);
      saved.current = res.attributes;
      step = 'task';
      const taskBody = { action: 'backup' as const, payload: normaliseIgnored(ignored) ?? '', time_offset: 0 };
      const existing = backupTaskOf(res.attributes);
      if (existing) await api.updateTask(server, res.attributes.id, existing.id, taskBody);
      else await api.createTask(server, res.attributes.id, taskBody);
      // Re-read so the list shows the task and the panel's next_run_at.
      const fresh = await api.schedules(server);
      onSaved(fresh.data.find((d) => d.attributes.id === res.attributes.id)?.attributes ?? res.attributes);
    } catch (err) {
      const byField = fieldErrors(err);
      if (step === 'task' && byField.payload) byField.ignored = byField.payload;
      setFields(byField);
      const prefix = step === 'task' && saved.current && !schedule
        ? 'The schedule was created, but its backup task was refused: '
        : '';
      const text = err instanceof ApiError && err.status === 422 && Object.keys(byField).length > 0
        ? 'Some values are not valid; each is explained next to its field.'
        : errorText(err);
      setError(prefix + text);
      setBusy(false);
    }
  };

  const hintFor = (key: string, fallback?: string) => fields[key] ?? fallback;

  return (
    <Modal title={schedule ? `Edit schedule "${schedule.name}"` : 'Create schedule'} onClose={onClose} busy={busy}>
      {() => (
        <form className="modal-body form" onSubmit={submit} noValidate>
          <div className="field">
            <label htmlFor={`${id}-name`}>Schedule name</label>
            <input id={`${id}-name`} name="name" type="text" maxLength={191} value={name} autoFocus placeholder="Nightly backup"
              aria-invalid={fields.name ? true : undefined} aria-describedby={fields.name ? `${id}-name-hint` : undefined}
              onChange={(e) => setName(e.target.value)} />
            {fields.name && <p id={`${id}-name-hint`} className="hint hint-danger">{fields.name}</p>}
          </div>
          <div className="field">
            <label htmlFor={`${id}-preset`}>When</label>
            <select id={`${id}-preset`} className="select" value={preset < 0 ? 'custom' : String(preset)}
              onChange={(e) => { const p = CRON_PRESETS[Number(e.target.value)]; if (p) setCron(p.fields); }}>
              {CRON_PRESETS.map((p, i) => <option key={p.label} value={String(i)}>{p.label}</option>)}
              <option value="custom" disabled={preset >= 0}>Custom</option>
            </select>
          </div>
          <fieldset className="cron-fields" aria-describedby={`${id}-cron-hint`}>
            <legend>Cron fields (UTC)</legend>
            {CRON_FIELDS.map(({ key, label }) => (
              <div className="field" key={key}>
                <label htmlFor={`${id}-${key}`}>{label}</label>
                <input id={`${id}-${key}`} name={key} type="text" className="mono" value={cron[key]} spellCheck={false}
                  aria-invalid={fields[key] ? true : undefined} aria-describedby={fields[key] ? `${id}-${key}-err` : undefined}
                  onChange={(e) => setCron({ ...cron, [key]: e.target.value })} />
              </div>
            ))}
          </fieldset>
          {/* Cron errors are long sentences: they go under the whole row, each tied to its input. */}
          {CRON_FIELDS.filter(({ key }) => fields[key]).map(({ key }) => (
            <p key={key} id={`${id}-${key}-err`} className="hint hint-danger cron-error">{fields[key]}</p>
          ))}
          <p id={`${id}-cron-hint`} className="hint" data-testid="cron-words">{describeCron(cron)}</p>
          <div className="field">
            <label htmlFor={`${id}-ignored`}>Ignored files &amp; directories</label>
            <textarea id={`${id}-ignored`} name="ignored" rows={4} value={ignored} spellCheck={false}
              placeholder={IGNORE_EXAMPLES.join('\n')} aria-describedby={`${id}-ignored-hint`}
              aria-invalid={fields.ignored ? true : undefined} onChange={(e) => setIgnored(e.target.value)} />
            <p id={`${id}-ignored-hint`} className={`hint ${fields.ignored ? 'hint-danger' : ''}`}>
              {hintFor('ignored', 'One pattern per line, for each backup this schedule makes. The server\'s .pteroignore always applies.')}
            </p>
          </div>
          <div className="field field-switch">
            <input id={`${id}-active`} type="checkbox" role="switch" className="switch" checked={active}
              aria-describedby={`${id}-active-hint`} onChange={(e) => setActive(e.target.checked)} />
            <div>
              <label htmlFor={`${id}-active`}>Active</label>
              <p id={`${id}-active-hint`} className={`hint ${fields.is_active ? 'hint-danger' : ''}`}>
                {hintFor('is_active', 'An inactive schedule only runs when you press Run now.')}
              </p>
            </div>
          </div>
          <ErrorAlert message={error} />
          <ModalActions onCancel={onClose} busy={busy} label={schedule ? 'Save schedule' : 'Create schedule'} />
        </form>
      )}
    </Modal>
  );
}
