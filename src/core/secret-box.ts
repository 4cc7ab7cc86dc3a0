/**
 * Encryption at rest for the secrets the panel must be able to read back (node tokens, destination
 * credentials, restic repository passwords), keyed by the panel's `APP_KEY` as upstream does.
 *
 * Format: `bw1:<key id>:<base64url(iv | tag | ciphertext)>`, AES-256-GCM. The key id (first 8 hex of
 * SHA-256 of the key) says which key sealed a value, so a rotation can keep old keys readable
 * (`APP_PREVIOUS_KEYS`) while everything is re-sealed under the new one.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { AppError } from './app-error.ts';

const PREFIX = 'bw1';

export class SecretBoxError extends AppError {
  constructor(message: string) {
    super('E_SECRET', 500, message);
  }
}

function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/** Laravel's `APP_KEY` form (`base64:` + 32 bytes) or 64 hex digits. */
export function parseAppKey(raw: string, name = 'APP_KEY'): Buffer {
  const v = raw.trim();
  const key = v.startsWith('base64:') ? Buffer.from(v.slice(7), 'base64')
    : /^[0-9a-f]{64}$/i.test(v) ? Buffer.from(v, 'hex')
      : null;
  if (key === null || key.length !== 32) {
    throw new AppError('E_CONFIG', 500, `invalid configuration: ${name} must be "base64:" followed by 32 bytes in base64 (e.g. from \`backwing admin key generate\`), or 64 hex digits`);
  }
  return key;
}

export function generateAppKey(): string {
  return `base64:${randomBytes(32).toString('base64')}`;
}

export class SecretBox {
  readonly #current: Buffer;
  readonly #byId = new Map<string, Buffer>();

  /** `keys[0]` seals; every key opens what it sealed. */
  constructor(keys: readonly Buffer[]) {
    if (keys.length === 0) throw new SecretBoxError('a secret box needs at least one key');
    this.#current = keys[0]!;
    for (const k of keys) this.#byId.set(keyId(k), k);
  }

  static isSealed(value: string): boolean {
    return value.startsWith(`${PREFIX}:`);
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#current, iv);
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return `${PREFIX}:${keyId(this.#current)}:${Buffer.concat([iv, c.getAuthTag(), body]).toString('base64url')}`;
  }

  open(sealed: string): string {
    const [prefix, id, data] = sealed.split(':');
    if (prefix !== PREFIX || id === undefined || data === undefined) throw new SecretBoxError('not a sealed secret');
    const key = this.#byId.get(id);
    if (!key) throw new SecretBoxError(`a secret was sealed with key ${id}, which is neither APP_KEY nor in APP_PREVIOUS_KEYS`);
    const raw = Buffer.from(data, 'base64url');
    if (raw.length < 28) throw new SecretBoxError('a sealed secret is truncated');
    try {
      const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
      d.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError(`a sealed secret does not open with key ${id}: it was altered`);
    }
  }

  /** True when `sealed` was made with an older key and should be re-sealed (key rotation). */
  isStale(sealed: string): boolean {
    return sealed.split(':')[1] !== keyId(this.#current);
  }
}
