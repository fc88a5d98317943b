/**
 * Key backups: each account may keep one opaque blob on the relay, its end-to-end encryption key pair wrapped
 * under a recovery passphrase on the client (a JWE compact, PBES2). The relay never sees the passphrase or a
 * plaintext key; it only checks the blob looks like a JWE, so nothing else is parked here.
 */
import type { SqliteDatabase } from './sqlite.js'

export const MAX_KEY_BACKUP_BYTES = 16 * 1024

/** A JWE compact serialization: five base64url segments (the second, the encrypted key, may not be empty for PBES2). */
export const isJweCompact = (value: unknown): value is string =>
  typeof value === 'string' &&
  value.length <= MAX_KEY_BACKUP_BYTES &&
  /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(value)

export class KeyBackups {
  private readonly s

  constructor(db: SqliteDatabase) {
    db.exec(`CREATE TABLE IF NOT EXISTS key_backups (
      account TEXT PRIMARY KEY,
      backup TEXT NOT NULL,
      updated_at INTEGER NOT NULL
    )`)
    this.s = {
      get: db.prepare<[string], { backup: string; updated_at: number }>('SELECT backup, updated_at FROM key_backups WHERE account = ?'),
      put: db.prepare<[string, string, number]>(
        'INSERT INTO key_backups (account, backup, updated_at) VALUES (?, ?, ?) ON CONFLICT(account) DO UPDATE SET backup = excluded.backup, updated_at = excluded.updated_at',
      ),
      delete: db.prepare<[string]>('DELETE FROM key_backups WHERE account = ?'),
    }
  }

  get(account: string): { backup: string; updatedAt: number } | undefined {
    const row = this.s.get.get(account)
    return row ? { backup: row.backup, updatedAt: row.updated_at } : undefined
  }

  put(account: string, backup: string, now = Date.now()): void {
    this.s.put.run(account, backup, now)
  }

  delete(account: string): void {
    this.s.delete.run(account)
  }
}
