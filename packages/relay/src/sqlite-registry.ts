/**
 * The registry of one relay on SQLite (registry.ts): sessions, tombstones of deleted accounts and workspaces,
 * key backups and dev accounts in the relay's database file. One relay uses a file, so which sessions are
 * live is known in memory and the device limit is checked there, synchronously, which makes it atomic.
 */
import type { AccessClaims } from './auth.js'
import { RelayError, TokenError } from './errors.js'
import type {
  DevAccountStore,
  DeviceLimit,
  Invalidations,
  KeyBackupStore,
  LiveSessionReport,
  OnlineResult,
  Registry,
  SessionRecord,
  SessionRegistry,
} from './registry.js'
import { deviceLimitReason } from './sessions.js'
import { type SqliteDatabase, writeTransaction } from './sqlite.js'

interface SessionRow {
  sid: string
  account: string
  device: string | null
  user_agent: string | null
  first_seen: number
  last_seen: number
  revoked_at: number | null
  revoke_reason: string | null
}

export class SqliteRegistry implements Registry {
  readonly sessions: SqliteSessionRegistry
  readonly keyBackups: KeyBackupStore
  readonly devAccounts: DevAccountStore

  /** `ownsDb`: close the database with the registry. */
  constructor(
    private readonly db: SqliteDatabase,
    private readonly ownsDb: boolean,
  ) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS sessions (
        sid TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        device TEXT,
        user_agent TEXT,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        revoked_at INTEGER
      );
      CREATE INDEX IF NOT EXISTS sessions_by_account ON sessions (account);
      CREATE TABLE IF NOT EXISTS deleted_accounts (account TEXT PRIMARY KEY, deleted_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS deleted_workspaces (workspace TEXT PRIMARY KEY, deleted_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS key_backups (account TEXT PRIMARY KEY, backup TEXT NOT NULL, updated_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS dev_accounts (name TEXT PRIMARY KEY, sub TEXT NOT NULL, workspace TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS dev_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `)
    const columns = (db.prepare('PRAGMA table_info(sessions)').all() as { name: string }[]).map((c) => c.name)
    if (!columns.includes('revoke_reason')) db.exec('ALTER TABLE sessions ADD COLUMN revoke_reason TEXT')
    this.sessions = new SqliteSessionRegistry(db)
    this.keyBackups = sqliteKeyBackups(db)
    this.devAccounts = sqliteDevAccounts(db)
  }

  async close(): Promise<void> {
    this.sessions.writeSeen()
    this.sessions.stop()
    if (this.ownsDb && this.db.open) this.db.close()
  }
}

class SqliteSessionRegistry implements SessionRegistry {
  /** Sessions live on this relay (the only one on this file) with their last activity. */
  private readonly live = new Map<string, { account: string; lastActive: number }>()
  /** "Seen" records not written yet: batched into one transaction, as an app opens a socket per doc. */
  private readonly unwritten = new Map<string, { account: string; device: string | null; userAgent: string | null; at: number }>()
  private writeTimer: NodeJS.Timeout | null = null
  private readonly s
  private readonly writeSeenTx: () => void

  constructor(db: SqliteDatabase) {
    this.s = {
      get: db.prepare('SELECT * FROM sessions WHERE sid = ?'),
      upsert: db.prepare(
        `INSERT INTO sessions (sid, account, device, user_agent, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (sid) DO UPDATE SET device = coalesce(excluded.device, device),
           user_agent = coalesce(excluded.user_agent, user_agent), last_seen = max(last_seen, excluded.last_seen)`,
      ),
      listActive: db.prepare('SELECT * FROM sessions WHERE account = ? AND revoked_at IS NULL ORDER BY first_seen'),
      revoke: db.prepare('UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE sid = ? AND account = ? AND revoked_at IS NULL'),
      deleteSessions: db.prepare('DELETE FROM sessions WHERE account = ?'),
      accountDeletedAt: db.prepare('SELECT deleted_at AS at FROM deleted_accounts WHERE account = ?'),
      workspaceDeleted: db.prepare('SELECT 1 FROM deleted_workspaces WHERE workspace = ?'),
      markAccount: db.prepare(
        'INSERT INTO deleted_accounts (account, deleted_at) VALUES (?, ?) ON CONFLICT (account) DO UPDATE SET deleted_at = excluded.deleted_at',
      ),
      markWorkspace: db.prepare('INSERT OR IGNORE INTO deleted_workspaces (workspace, deleted_at) VALUES (?, ?)'),
      deleteKeyBackup: db.prepare('DELETE FROM key_backups WHERE account = ?'),
    }
    this.writeSeenTx = writeTransaction(db, () => {
      for (const [sid, r] of this.unwritten) this.s.upsert.run(sid, r.account, r.device, r.userAgent, r.at, r.at)
      this.unwritten.clear()
    })
    this.deleteAccountTx = writeTransaction(db, (account: string, workspaces: readonly string[], at: number) => {
      for (const id of workspaces) this.s.markWorkspace.run(id, at)
      this.s.markAccount.run(account, at)
      this.s.deleteSessions.run(account)
      this.s.deleteKeyBackup.run(account)
    })
  }

  private readonly deleteAccountTx: (account: string, workspaces: readonly string[], at: number) => void

  async refusal(claims: AccessClaims, workspaceId?: string): Promise<RelayError | null> {
    return this.refusalNow(claims, workspaceId)
  }

  private refusalNow(claims: AccessClaims, workspaceId?: string): RelayError | null {
    const deleted = this.s.accountDeletedAt.get(claims.sub) as { at: number } | undefined
    if (deleted !== undefined && (claims.iat ?? 0) * 1000 <= deleted.at) return new RelayError(4410, 'account deleted')
    const row = this.s.get.get(claims.sid) as SessionRow | undefined
    const account = row?.account ?? this.unwritten.get(claims.sid)?.account ?? this.live.get(claims.sid)?.account
    if (account !== undefined && account !== claims.sub) return new TokenError('session belongs to another account')
    if (row?.revoked_at != null) return new RelayError(4410, 'session revoked')
    if (workspaceId !== undefined && this.s.workspaceDeleted.get(workspaceId) !== undefined) return new RelayError(4403, 'workspace deleted')
    return null
  }

  async comeOnline(claims: AccessClaims, userAgent: string | null, limit: DeviceLimit): Promise<OnlineResult> {
    const refused = this.refusalNow(claims)
    if (refused) return { ok: false, error: refused }
    const evicted: string[] = []
    if (!this.live.has(claims.sid)) {
      const others = [...this.live].filter(([, s]) => s.account === claims.sub).map(([sid, s]) => ({ sid, ...s }))
      if (limit.maxDevices > 0 && others.length >= limit.maxDevices) {
        if (limit.devicePolicy === 'refuse') {
          this.writeSeen()
          const deviceOf = (sid: string) => (this.s.get.get(sid) as SessionRow | undefined)?.device ?? null
          return { ok: false, error: new RelayError(4409, deviceLimitReason(limit.maxDevices, others, deviceOf)) }
        }
        const byAge = others.sort((a, b) => a.lastActive - b.lastActive)
        for (const victim of byAge.slice(0, others.length - limit.maxDevices + 1)) {
          this.writeSeen()
          this.s.revoke.run(Date.now(), 'evicted: device limit', victim.sid, claims.sub)
          this.live.delete(victim.sid)
          evicted.push(victim.sid)
        }
      }
    }
    this.live.set(claims.sid, { account: claims.sub, lastActive: Date.now() })
    this.seen(claims, userAgent)
    return { ok: true, evicted }
  }

  async goOffline(sid: string): Promise<void> {
    const session = this.live.get(sid)
    if (!session) return
    this.live.delete(sid)
    this.remember(sid, session.account, null, null, session.lastActive)
  }

  seen(claims: AccessClaims, userAgent: string | null): void {
    this.remember(claims.sid, claims.sub, claims.name ?? null, userAgent, Date.now())
  }

  async heartbeat(live: readonly LiveSessionReport[]): Promise<void> {
    for (const report of live) {
      const session = this.live.get(report.sid)
      if (session) session.lastActive = report.lastActive
    }
  }

  async list(account: string): Promise<SessionRecord[]> {
    this.writeSeen()
    return (this.s.listActive.all(account) as SessionRow[]).map((row) => ({
      sid: row.sid,
      account: row.account,
      device: row.device,
      userAgent: row.user_agent,
      firstSeen: row.first_seen,
      lastSeen: row.last_seen,
      connectionsElsewhere: 0,
    }))
  }

  async revoke(account: string, sid: string, reason: string): Promise<boolean> {
    this.writeSeen()
    const changed = this.s.revoke.run(Date.now(), reason, sid, account).changes > 0
    if (this.live.get(sid)?.account === account) this.live.delete(sid)
    return changed
  }

  async deleteAccount(account: string, workspaces: readonly string[]): Promise<number> {
    const at = Date.now()
    this.writeSeen()
    this.deleteAccountTx(account, workspaces, at)
    for (const [sid, session] of this.live) if (session.account === account) this.live.delete(sid)
    return at
  }

  async invalidated(check: { sids: readonly string[]; accounts: readonly string[]; workspaces: readonly string[] }): Promise<Invalidations> {
    // One relay per file: every revocation and deletion went through this relay and acted at once.
    void check
    return { revokedSessions: [], deletedAccounts: [], deletedWorkspaces: [] }
  }

  async accountOf(sid: string): Promise<string | null> {
    return (this.s.get.get(sid) as SessionRow | undefined)?.account ?? this.unwritten.get(sid)?.account ?? this.live.get(sid)?.account ?? null
  }

  async flush(): Promise<void> {
    this.writeSeen()
  }

  writeSeen(): void {
    if (this.writeTimer) clearTimeout(this.writeTimer)
    this.writeTimer = null
    if (this.unwritten.size > 0) this.writeSeenTx()
  }

  stop(): void {
    if (this.writeTimer) clearTimeout(this.writeTimer)
    this.writeTimer = null
  }

  private remember(sid: string, account: string, device: string | null, userAgent: string | null, at: number): void {
    const previous = this.unwritten.get(sid)
    this.unwritten.set(sid, { account, device: device ?? previous?.device ?? null, userAgent: userAgent ?? previous?.userAgent ?? null, at })
    this.writeTimer ??= setTimeout(() => this.writeSeen(), 100)
    this.writeTimer.unref()
  }
}

function sqliteKeyBackups(db: SqliteDatabase): KeyBackupStore {
  const get = db.prepare<[string], { backup: string; updated_at: number }>('SELECT backup, updated_at FROM key_backups WHERE account = ?')
  const put = db.prepare<[string, string, number]>(
    'INSERT INTO key_backups (account, backup, updated_at) VALUES (?, ?, ?) ON CONFLICT(account) DO UPDATE SET backup = excluded.backup, updated_at = excluded.updated_at',
  )
  const del = db.prepare<[string]>('DELETE FROM key_backups WHERE account = ?')
  return {
    async get(account) {
      const row = get.get(account)
      return row ? { backup: row.backup, updatedAt: row.updated_at } : undefined
    },
    async put(account, backup) {
      put.run(account, backup, Date.now())
    },
    async delete(account) {
      del.run(account)
    },
  }
}

function sqliteDevAccounts(db: SqliteDatabase): DevAccountStore {
  const account = db.prepare<[string], { sub: string; workspace: string }>('SELECT sub, workspace FROM dev_accounts WHERE name = ?')
  const addAccount = db.prepare('INSERT OR IGNORE INTO dev_accounts (name, sub, workspace) VALUES (?, ?, ?)')
  const setting = db.prepare<[string], { value: string }>('SELECT value FROM dev_settings WHERE key = ?')
  const addSetting = db.prepare('INSERT OR IGNORE INTO dev_settings (key, value) VALUES (?, ?)')
  return {
    async secret(candidate) {
      addSetting.run('secret', candidate)
      return setting.get('secret')!.value
    },
    async account(name, candidate) {
      addAccount.run(name, candidate.sub, candidate.workspace)
      return account.get(name)!
    },
    // Kept as a setting per account (`key:<sub>`): no schema change for a dev-only fact.
    async accountKey(sub, candidate) {
      if (candidate !== null) addSetting.run(`key:${sub}`, candidate)
      return setting.get(`key:${sub}`)?.value ?? null
    },
  }
}
