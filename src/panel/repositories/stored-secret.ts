import { SecretBox } from '../../core/secret-box.ts';

/**
 * Secrets the panel must read back are sealed with APP_KEY in the repository, so no caller ever
 * sees ciphertext and none can forget to seal. A value stored before sealing existed (plain) is
 * read as is; migration 0008 and `backwing admin key rotate` seal such values.
 */
export function openStored(box: SecretBox, value: string): string {
  if (!SecretBox.isSealed(value)) return value;
  // Every client API request on a server reads its node's token: opened values are kept per key
  // set, so that is one map lookup rather than an AES-GCM decryption each time.
  let opened = cache.get(box);
  if (!opened) cache.set(box, (opened = new Map()));
  let plain = opened.get(value);
  if (plain === undefined) {
    plain = box.open(value);
    if (opened.size >= CACHE_SIZE) opened.clear();
    opened.set(value, plain);
  }
  return plain;
}

export function openStoredOrNull(box: SecretBox, value: string | null): string | null {
  return value === null ? null : openStored(box, value);
}

const CACHE_SIZE = 10_000;
const cache = new WeakMap<SecretBox, Map<string, string>>();
