/**
 * Tombstones for deleted accounts and workspaces, so that a token signed before the deletion cannot bring
 * them back: an account's tokens issued before its deletion are refused (4410), and a deleted workspace is
 * refused to everyone (4403). Workspace ids are random and never reused, so the tombstone is permanent.
 */
import type { SqliteDatabase } from './sqlite.js'

export class Deletions {
  private readonly s

  constructor(db: SqliteDatabase) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS deleted_accounts (account TEXT PRIMARY KEY, deleted_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS deleted_workspaces (workspace TEXT PRIMARY KEY, deleted_at INTEGER NOT NULL);
    `)
    this.s = {
      account: db.prepare('SELECT deleted_at AS at FROM deleted_accounts WHERE account = ?'),
      workspace: db.prepare('SELECT 1 FROM deleted_workspaces WHERE workspace = ?'),
      markAccount: db.prepare(
        'INSERT INTO deleted_accounts (account, deleted_at) VALUES (?, ?) ' +
          'ON CONFLICT (account) DO UPDATE SET deleted_at = excluded.deleted_at',
      ),
      markWorkspace: db.prepare('INSERT OR IGNORE INTO deleted_workspaces (workspace, deleted_at) VALUES (?, ?)'),
    }
  }

  /** Whether a token of `account` issued at `iat` (seconds; missing = before anything) predates its deletion. */
  isAccountDeletedFor(account: string, iat: number | undefined): boolean {
    const row = this.s.account.get(account) as { at: number } | undefined
    return row !== undefined && (iat ?? 0) * 1000 <= row.at
  }

  isWorkspaceDeleted(workspaceId: string): boolean {
    return this.s.workspace.get(workspaceId) !== undefined
  }

  markAccountDeleted(account: string, at = Date.now()): void {
    this.s.markAccount.run(account, at)
  }

  markWorkspaceDeleted(workspaceId: string, at = Date.now()): void {
    this.s.markWorkspace.run(workspaceId, at)
  }
}
