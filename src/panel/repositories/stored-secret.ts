import { SecretBox } from '../../core/secret-box.ts';

/**
 * Secrets the panel must read back are sealed with APP_KEY in the repository, so no caller ever
 * sees ciphertext and none can forget to seal. A value stored before sealing existed (plain) is
 * read as is; migration 0008 and `backwing admin key rotate` seal such values.
 */
export function openStored(box: SecretBox, value: string): string {
  return SecretBox.isSealed(value) ? box.open(value) : value;
}

export function openStoredOrNull(box: SecretBox, value: string | null): string | null {
  return value === null ? null : openStored(box, value);
}
