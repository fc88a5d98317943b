/**
 * Sessions: one signed-in app on one device, identified by the token's `sid`. The registry (SQLite) keeps
 * account, device name, user agent, first/last seen and revocation; the live part (memory) tracks which
 * sessions have open connections, which is what the device limit counts.
 */
import type { AccessClaims } from './auth.js'
import { CloseCode, closeReason } from './close-codes.js'
import { Deletions } from './deletions.js'
import { RelayError, TokenError } from './errors.js'
import type { SqliteDatabase } from './sqlite.js'

export type DevicePolicy = 'refuse' | 'evict-lru'

/** An open connection as the session registry sees it. */
export interface LiveConnection {
  close(code: CloseCode, reason: string): void
}

export interface SessionInfo {
  sid: string
  account: string
  device: string | null
  userAgent: string | null
  /** Epoch milliseconds. */
  firstSeen: number
  lastSeen: number
  /** Open sync connections of this session on this relay. */
  connections: number
}

interface LiveSession {
  sid: string
  account: string
  connections: Set<LiveConnection>
  lastActive: number
}

interface SessionRow {
  sid: string
  account: string
  device: string | null
  user_agent: string | null
  first_seen: number
  last_seen: number
  revoked_at: number | null
}

export interface SessionsOptions {
  /** Sessions of one account connected at once; 0 = no limit. */
  maxDevices: number
  devicePolicy: DevicePolicy
}

export class Sessions {
  readonly deletions: Deletions
  private readonly live = new Map<string, LiveSession>()
  private readonly liveByAccount = new Map<string, Set<LiveSession>>()
  /** "Seen" records not written yet: batched into one transaction, as an app opens a socket per doc. */
  private readonly unwritten = new Map<string, { account: string; device: string | null; userAgent: string | null; at: number }>()
  private writeTimer: NodeJS.Timeout | null = null
  private readonly writeSeen: () => void
  private readonly s

  constructor(
    db: SqliteDatabase,
    readonly options: SessionsOptions,
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
    `)
    this.deletions = new Deletions(db)
    this.writeSeen = db.transaction(() => {
      for (const [sid, r] of this.unwritten) this.s.upsert.run(sid, r.account, r.device, r.userAgent, r.at, r.at)
      this.unwritten.clear()
    })
    this.s = {
      get: db.prepare('SELECT * FROM sessions WHERE sid = ?'),
      upsert: db.prepare(
        `INSERT INTO sessions (sid, account, device, user_agent, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (sid) DO UPDATE SET device = coalesce(excluded.device, device),
           user_agent = coalesce(excluded.user_agent, user_agent), last_seen = max(last_seen, excluded.last_seen)`,
      ),
      listActive: db.prepare('SELECT * FROM sessions WHERE account = ? AND revoked_at IS NULL ORDER BY first_seen'),
      revoke: db.prepare('UPDATE sessions SET revoked_at = ? WHERE sid = ? AND account = ? AND revoked_at IS NULL'),
      deleteAccount: db.prepare('DELETE FROM sessions WHERE account = ?'),
    }
  }

  /** Why this token's session may not be used (revoked, account deleted, sid of another account), or null. */
  refusal(claims: AccessClaims): RelayError | null {
    if (this.deletions.isAccountDeletedFor(claims.sub, claims.iat)) return new RelayError(4410, 'account deleted')
    const row = this.s.get.get(claims.sid) as SessionRow | undefined
    const account = row?.account ?? this.unwritten.get(claims.sid)?.account ?? this.live.get(claims.sid)?.account
    if (account !== undefined && account !== claims.sub) return new TokenError('session belongs to another account')
    if (row?.revoked_at != null) return new RelayError(4410, 'session revoked')
    return null
  }

  /** Record that this session was seen (creating it on first sight). Call only after `refusal` said null. */
  touch(claims: AccessClaims, userAgent: string | null): void {
    this.seen(claims.sid, claims.sub, claims.name ?? null, userAgent, Date.now())
  }

  /** Write pending "seen" records now (before reading the table, and on shutdown). */
  flush(): void {
    if (this.writeTimer) clearTimeout(this.writeTimer)
    this.writeTimer = null
    if (this.unwritten.size > 0) this.writeSeen()
  }

  private seen(sid: string, account: string, device: string | null, userAgent: string | null, at: number): void {
    const previous = this.unwritten.get(sid)
    this.unwritten.set(sid, { account, device: device ?? previous?.device ?? null, userAgent: userAgent ?? previous?.userAgent ?? null, at })
    this.writeTimer ??= setTimeout(() => this.flush(), 100)
    this.writeTimer.unref()
  }

  /**
   * Let a connection in, applying the device limit when it opens a session that has no connection yet:
   * `refuse` returns a 4409 error carrying the live sessions; `evict-lru` revokes the least recently active
   * session(s) (closing them with 4410) to make room.
   */
  admit(conn: LiveConnection, claims: AccessClaims, userAgent: string | null): RelayError | null {
    const refused = this.refusal(claims)
    if (refused) return refused
    let session = this.live.get(claims.sid)
    if (!session) {
      const accountLive = this.liveByAccount.get(claims.sub) ?? new Set<LiveSession>()
      const { maxDevices, devicePolicy } = this.options
      if (maxDevices > 0 && accountLive.size >= maxDevices) {
        if (devicePolicy === 'refuse') {
          return new RelayError(4409, deviceLimitReason(maxDevices, [...accountLive], (sid) => this.deviceOf(sid)))
        }
        const byAge = [...accountLive].sort((a, b) => a.lastActive - b.lastActive)
        for (const victim of byAge.slice(0, accountLive.size - maxDevices + 1)) {
          this.revoke(claims.sub, victim.sid, 'evicted: device limit')
        }
      }
      // One write per session coming online, not per connection: an app opens a socket per doc.
      this.touch(claims, userAgent)
      session = { sid: claims.sid, account: claims.sub, connections: new Set(), lastActive: Date.now() }
      this.live.set(claims.sid, session)
      accountLive.add(session)
      this.liveByAccount.set(claims.sub, accountLive)
    }
    session.connections.add(conn)
    session.lastActive = Date.now()
    return null
  }

  /** A connection of `sid` did something: it counts as recently used for `evict-lru`. */
  active(sid: string): void {
    const session = this.live.get(sid)
    if (session) session.lastActive = Date.now()
  }

  release(conn: LiveConnection, sid: string): void {
    const session = this.live.get(sid)
    if (!session || !session.connections.delete(conn)) return
    if (session.connections.size > 0) return
    this.live.delete(sid)
    const accountLive = this.liveByAccount.get(session.account)
    accountLive?.delete(session)
    if (accountLive?.size === 0) this.liveByAccount.delete(session.account)
    this.seen(sid, session.account, null, null, session.lastActive)
  }

  /** The account's sessions that are not revoked, with live connection counts. */
  list(account: string): SessionInfo[] {
    this.flush()
    return (this.s.listActive.all(account) as SessionRow[]).map((row) => {
      const live = this.live.get(row.sid)
      return {
        sid: row.sid,
        account: row.account,
        device: row.device,
        userAgent: row.user_agent,
        firstSeen: row.first_seen,
        lastSeen: Math.max(row.last_seen, live?.lastActive ?? 0),
        connections: live?.connections.size ?? 0,
      }
    })
  }

  /** Revoke one session of `account`: its sockets close with 4410 now, its tokens are refused from now on. */
  revoke(account: string, sid: string, reason = 'session revoked'): boolean {
    this.flush()
    const changed = this.s.revoke.run(Date.now(), sid, account).changes > 0
    if (this.live.get(sid)?.account === account) this.closeLive(sid, reason)
    return changed
  }

  /** Revoke all of the account's sessions, except `keepSid` if given; returns the revoked ids. */
  revokeAll(account: string, keepSid?: string): string[] {
    const sids = this.list(account)
      .map((s) => s.sid)
      .filter((sid) => sid !== keepSid)
    for (const sid of sids) this.revoke(account, sid)
    return sids
  }

  /** Forget the account's sessions and refuse every token of it issued until now. */
  deleteAccount(account: string): void {
    this.deletions.markAccountDeleted(account)
    for (const session of [...(this.liveByAccount.get(account) ?? [])]) this.closeLive(session.sid, 'account deleted')
    this.flush()
    this.s.deleteAccount.run(account)
  }

  /** The account a known session belongs to, or null. */
  accountOf(sid: string): string | null {
    return (this.s.get.get(sid) as SessionRow | undefined)?.account ?? this.unwritten.get(sid)?.account ?? this.live.get(sid)?.account ?? null
  }

  get liveSessions(): number {
    return this.live.size
  }

  private closeLive(sid: string, reason: string): void {
    const session = this.live.get(sid)
    if (!session) return
    for (const conn of [...session.connections]) conn.close(CloseCode.sessionRevoked, reason)
  }

  private deviceOf(sid: string): string | null {
    this.flush()
    return (this.s.get.get(sid) as SessionRow | undefined)?.device ?? null
  }
}

/**
 * The 4409 close reason: the live sessions as compact JSON when it fits the 123-byte limit, else fewer
 * details, else a summary. The full list is always available from GET /sessions.
 */
export function deviceLimitReason(limit: number, live: { sid: string }[], deviceOf: (sid: string) => string | null): string {
  const full = JSON.stringify({ limit, sessions: live.map((s) => ({ sid: s.sid, device: deviceOf(s.sid) })) })
  if (Buffer.byteLength(full) <= 123) return full
  const sidsOnly = JSON.stringify({ limit, sessions: live.map((s) => ({ sid: s.sid })) })
  if (Buffer.byteLength(sidsOnly) <= 123) return sidsOnly
  return closeReason(JSON.stringify({ limit, live: live.length, list: 'GET /sessions' }))
}
