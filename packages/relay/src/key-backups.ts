/**
 * Key backups: each account may keep one opaque blob on the relay, its end-to-end encryption key pair wrapped
 * under a recovery passphrase on the client (a JWE compact, PBES2). The relay never sees the passphrase or a
 * plaintext key; it only checks the blob looks like a JWE, so nothing else is parked here. Where they are kept
 * is the registry's KeyBackupStore (registry.ts).
 */

/** The largest backup accepted (the JWE string); a larger one is refused with 413. */
export const MAX_KEY_BACKUP_BYTES = 16 * 1024

/** The largest request body of PUT /account/key-backup: the backup plus its JSON wrapping. */
export const MAX_KEY_BACKUP_BODY_BYTES = MAX_KEY_BACKUP_BYTES + 1024

/** A JWE compact serialization: five base64url segments (the second, the encrypted key, may not be empty for PBES2). */
export const isJweCompact = (value: unknown): value is string =>
  typeof value === 'string' && /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(value)
