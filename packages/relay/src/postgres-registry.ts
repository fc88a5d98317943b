/**
 * The registry shared by several relays, on Postgres (registry.ts): sessions, which relays they are live on
 * (`apisync_presence`, one row per session and relay, counted only while the relay's heartbeat in
 * `apisync_relays` is fresh, so a relay killed with -9 stops counting after `aliveForMs`), tombstones, key
 * backups and dev accounts.
 *
 * The device limit is atomic across relays: a session coming online takes a transaction-level advisory lock
 * on its account, counts the account's live sessions on every live relay, and records itself, all before
 * COMMIT; a second device of the same account on another relay waits for the lock and counts the first.
 */
import type { AccessClaims } from './auth.js'
import { RelayError, TokenError } from './errors.js'
import type { Logger } from './logger.js'
import { describeError } from './logger.js'
import { query, withTransaction, type PgClient, type PgPool } from './postgres.js'
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

export interface PostgresRegistryOptions {
  pool: PgPool
  /** This relay's id (its presence rows and heartbeat). */
  relayId: string
  /** A relay whose last heartbeat is older than this no longer counts toward device limits. */
  aliveForMs: number
  logger: Logger
}

/** Advisory lock class of per-account locks (the device limit). */
const ACCOUNT_LOCK_CLASS = 0x617069 // 'api'

const REFUSAL = `
SELECT (SELECT deleted_at FROM apisync_deleted_accounts WHERE account = $1) AS account_deleted_at,
       s.account, s.revoked_at,
       ($3::text IS NOT NULL AND EXISTS (SELECT 1 FROM apisync_deleted_workspaces WHERE workspace = $3)) AS workspace_deleted
FROM (SELECT 1) AS one LEFT JOIN apisync_sessions s ON s.sid = $2`

const UPSERT_SEEN = `
INSERT INTO apisync_sessions AS s (sid, account, device, user_agent, first_seen, last_seen)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $5::bigint[])
ON CONFLICT (sid) DO UPDATE SET device = coalesce(excluded.device, s.device), user_agent = coalesce(excluded.user_agent, s.user_agent),
  last_seen = greatest(s.last_seen, excluded.last_seen)`

export class PostgresRegistry implements Registry {
  readonly sessions: PostgresSessionRegistry
  readonly keyBackups: KeyBackupStore
  readonly devAccounts: DevAccountStore

  constructor(o: PostgresRegistryOptions) {
    this.sessions = new PostgresSessionRegistry(o)
    this.keyBackups = postgresKeyBackups(o.pool)
    this.devAccounts = postgresDevAccounts(o.pool)
  }

  /** Announce this relay (its heartbeat row). Call once the schema exists. */
  start(): Promise<void> {
    return this.sessions.heartbeat([], 0)
  }

  async close(): Promise<void> {
    await this.sessions.close()
  }
}

class PostgresSessionRegistry implements SessionRegistry {
  /** "Seen" records not written yet: batched, as an app opens a socket per doc. */
  private readonly unwritten = new Map<string, { account: string; device: string | null; userAgent: string | null; at: number }>()
  private writeTimer: NodeJS.Timeout | null = null
  private writing: Promise<void> = Promise.resolve()
  private readonly pool: PgPool
  private readonly relayId: string

  constructor(private readonly o: PostgresRegistryOptions) {
    this.pool = o.pool
    this.relayId = o.relayId
  }

  async refusal(claims: AccessClaims, workspaceId?: string): Promise<RelayError | null> {
    const { rows } = await query(this.pool, REFUSAL, [claims.sub, claims.sid, workspaceId ?? null])
    return this.judge(claims, rows[0])
  }

  private judge(claims: AccessClaims, row: Record<string, unknown>): RelayError | null {
    const deletedAt = row.account_deleted_at === null ? null : Number(row.account_deleted_at)
    if (deletedAt !== null && (claims.iat ?? 0) * 1000 <= deletedAt) return new RelayError(4410, 'account deleted')
    const account = (row.account as string | null) ?? this.unwritten.get(claims.sid)?.account
    if (account !== undefined && account !== claims.sub) return new TokenError('session belongs to another account')
    if (row.revoked_at !== null) return new RelayError(4410, 'session revoked')
    if (row.workspace_deleted === true) return new RelayError(4403, 'workspace deleted')
    return null
  }

  async comeOnline(claims: AccessClaims, userAgent: string | null, limit: DeviceLimit, here?: () => Iterable<string>): Promise<OnlineResult> {
    return withTransaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [ACCOUNT_LOCK_CLASS, claims.sub])
      const refused = this.judge(claims, (await client.query(REFUSAL, [claims.sub, claims.sid, null])).rows[0])
      if (refused) return { ok: false, error: refused }
      // This relay's own rows count only for sessions it holds now (taken under the lock): a close it has seen
      // is gone, though its DELETE (goOffline, after the socket closed) may not have reached Postgres yet.
      const { rows: live } = await client.query<{ sid: string; last_active: string; device: string | null }>(
        `SELECT p.sid, max(p.last_active) AS last_active, max(s.device) AS device
         FROM apisync_presence p JOIN apisync_relays r ON r.id = p.relay AND r.alive_until > now()
         LEFT JOIN apisync_sessions s ON s.sid = p.sid
         WHERE p.account = $1 AND s.revoked_at IS NULL AND ($3::text[] IS NULL OR p.relay <> $2 OR p.sid = ANY($3::text[]))
         GROUP BY p.sid ORDER BY min(s.first_seen)`,
        [claims.sub, this.relayId, here ? [...here()] : null],
      )
      const evicted: string[] = []
      const others = live.filter((s) => s.sid !== claims.sid)
      if (limit.maxDevices > 0 && others.length === live.length && others.length >= limit.maxDevices) {
        if (limit.devicePolicy === 'refuse') {
          const devices = new Map(others.map((s) => [s.sid, s.device]))
          return { ok: false, error: new RelayError(4409, deviceLimitReason(limit.maxDevices, others, (sid) => devices.get(sid) ?? null)) }
        }
        const byAge = [...others].sort((a, b) => Number(a.last_active) - Number(b.last_active))
        evicted.push(...byAge.slice(0, others.length - limit.maxDevices + 1).map((s) => s.sid))
        await client.query(
          `UPDATE apisync_sessions SET revoked_at = $3, revoke_reason = 'evicted: device limit'
           WHERE sid = ANY($1::text[]) AND account = $2 AND revoked_at IS NULL`,
          [evicted, claims.sub, Date.now()],
        )
        await client.query('DELETE FROM apisync_presence WHERE sid = ANY($1::text[])', [evicted])
      }
      const now = Date.now()
      await client.query(UPSERT_SEEN, [[claims.sid], [claims.sub], [claims.name ?? null], [userAgent], [now]])
      await client.query(
        `INSERT INTO apisync_presence (sid, relay, account, connections, last_active) VALUES ($1, $2, $3, 1, $4)
         ON CONFLICT (sid, relay) DO UPDATE SET last_active = excluded.last_active`,
        [claims.sid, this.relayId, claims.sub, now],
      )
      return { ok: true, evicted }
    })
  }

  async goOffline(sid: string): Promise<void> {
    await query(this.pool, 'DELETE FROM apisync_presence WHERE sid = $1 AND relay = $2', [sid, this.relayId])
  }

  seen(claims: AccessClaims, userAgent: string | null): void {
    const previous = this.unwritten.get(claims.sid)
    this.unwritten.set(claims.sid, {
      account: claims.sub,
      device: claims.name ?? previous?.device ?? null,
      userAgent: userAgent ?? previous?.userAgent ?? null,
      at: Date.now(),
    })
    this.writeTimer ??= setTimeout(() => void this.flush(), 100)
    this.writeTimer.unref()
  }

  /**
   * Renew this relay's heartbeat and make its presence rows match its live sessions: rows of sessions live
   * here are written (a failed goOffline is corrected), rows of sessions no longer live here are dropped,
   * except those of sessions coming online (`arriving`, or written since `since`, when the report was taken).
   */
  async heartbeat(live: readonly LiveSessionReport[], since: number, arriving: readonly string[] = []): Promise<void> {
    await query(
      this.pool,
      `WITH me AS (
         INSERT INTO apisync_relays (id, alive_until) VALUES ($1, now() + $2 * interval '1 millisecond')
         ON CONFLICT (id) DO UPDATE SET alive_until = excluded.alive_until
       ), present AS (
         INSERT INTO apisync_presence AS p (sid, relay, account, connections, last_active)
         SELECT v.sid, $1, v.account, v.connections, v.last_active
         FROM unnest($3::text[], $4::text[], $5::int[], $6::bigint[]) AS v(sid, account, connections, last_active)
         ON CONFLICT (sid, relay) DO UPDATE SET connections = excluded.connections, last_active = greatest(p.last_active, excluded.last_active)
       ), stale AS (
         DELETE FROM apisync_presence WHERE relay = $1 AND NOT (sid = ANY($3::text[])) AND NOT (sid = ANY($8::text[])) AND last_active < $7
       ), gone AS (
         DELETE FROM apisync_relays WHERE alive_until < now() - interval '10 minutes' RETURNING id
       )
       DELETE FROM apisync_presence WHERE relay IN (SELECT id FROM gone)`,
      [
        this.relayId,
        this.o.aliveForMs,
        live.map((s) => s.sid),
        live.map((s) => s.account),
        live.map((s) => s.connections),
        live.map((s) => s.lastActive),
        since,
        arriving,
      ],
    )
  }

  async list(account: string): Promise<SessionRecord[]> {
    await this.flush()
    const { rows } = await query<{ sid: string; account: string; device: string | null; user_agent: string | null; first_seen: string; last_seen: string; elsewhere: string; active: string | null }>(
      this.pool,
      `SELECT s.sid, s.account, s.device, s.user_agent, s.first_seen, s.last_seen,
              coalesce(sum(p.connections) FILTER (WHERE p.relay <> $2 AND r.id IS NOT NULL), 0) AS elsewhere,
              max(p.last_active) FILTER (WHERE r.id IS NOT NULL) AS active
       FROM apisync_sessions s
       LEFT JOIN apisync_presence p ON p.sid = s.sid
       LEFT JOIN apisync_relays r ON r.id = p.relay AND r.alive_until > now()
       WHERE s.account = $1 AND s.revoked_at IS NULL
       GROUP BY s.sid ORDER BY s.first_seen`,
      [account, this.relayId],
    )
    return rows.map((r) => ({
      sid: r.sid,
      account: r.account,
      device: r.device,
      userAgent: r.user_agent,
      firstSeen: Number(r.first_seen),
      lastSeen: Math.max(Number(r.last_seen), Number(r.active ?? 0)),
      connectionsElsewhere: Number(r.elsewhere),
    }))
  }

  async revoke(account: string, sid: string, reason: string): Promise<boolean> {
    await this.flush()
    const { rowCount } = await query(
      this.pool,
      'UPDATE apisync_sessions SET revoked_at = $4, revoke_reason = $3 WHERE sid = $1 AND account = $2 AND revoked_at IS NULL',
      [sid, account, reason, Date.now()],
    )
    return (rowCount ?? 0) > 0
  }

  async deleteAccount(account: string, workspaces: readonly string[]): Promise<number> {
    const at = Date.now()
    await this.flush()
    await withTransaction(this.pool, async (client: PgClient) => {
      await client.query(
        'INSERT INTO apisync_deleted_workspaces (workspace, deleted_at) SELECT w, $2 FROM unnest($1::text[]) AS w ON CONFLICT DO NOTHING',
        [workspaces, at],
      )
      await client.query(
        'INSERT INTO apisync_deleted_accounts (account, deleted_at) VALUES ($1, $2) ON CONFLICT (account) DO UPDATE SET deleted_at = excluded.deleted_at',
        [account, at],
      )
      await client.query('DELETE FROM apisync_sessions WHERE account = $1', [account])
      await client.query('DELETE FROM apisync_presence WHERE account = $1', [account])
      await client.query('DELETE FROM apisync_key_backups WHERE account = $1', [account])
    })
    for (const [sid, r] of this.unwritten) if (r.account === account) this.unwritten.delete(sid)
    return at
  }

  async invalidated(live: { sids: readonly string[]; accounts: readonly string[]; workspaces: readonly string[] }): Promise<Invalidations> {
    const found: Invalidations = { revokedSessions: [], deletedAccounts: [], deletedWorkspaces: [] }
    if (live.sids.length + live.accounts.length + live.workspaces.length === 0) return found
    const { rows } = await query<{ kind: string; id: string; account: string | null; reason: string | null; at: string | null }>(
      this.pool,
      `SELECT 'session' AS kind, sid AS id, account, revoke_reason AS reason, NULL::bigint AS at
         FROM apisync_sessions WHERE sid = ANY($1::text[]) AND revoked_at IS NOT NULL
       UNION ALL
       SELECT 'account', account, account, NULL, deleted_at FROM apisync_deleted_accounts WHERE account = ANY($2::text[])
       UNION ALL
       SELECT 'workspace', workspace, NULL, NULL, NULL FROM apisync_deleted_workspaces WHERE workspace = ANY($3::text[])`,
      [live.sids, live.accounts, live.workspaces],
    )
    for (const r of rows) {
      if (r.kind === 'session') found.revokedSessions.push({ sid: r.id, account: r.account!, reason: r.reason ?? 'session revoked' })
      else if (r.kind === 'account') found.deletedAccounts.push({ account: r.id, deletedAt: Number(r.at) })
      else found.deletedWorkspaces.push(r.id)
    }
    return found
  }

  async accountOf(sid: string): Promise<string | null> {
    const { rows } = await query<{ account: string }>(this.pool, 'SELECT account FROM apisync_sessions WHERE sid = $1', [sid])
    return rows[0]?.account ?? this.unwritten.get(sid)?.account ?? null
  }

  /** Write the batched "seen" records (one statement); on failure they are logged and dropped. */
  async flush(): Promise<void> {
    if (this.writeTimer) clearTimeout(this.writeTimer)
    this.writeTimer = null
    if (this.unwritten.size > 0) {
      const batch = [...this.unwritten]
      this.unwritten.clear()
      const cols = [batch.map(([sid]) => sid), batch.map(([, r]) => r.account), batch.map(([, r]) => r.device), batch.map(([, r]) => r.userAgent), batch.map(([, r]) => r.at)]
      this.writing = this.writing
        .then(() => query(this.pool, UPSERT_SEEN, cols))
        .then(
          () => {},
          (err: unknown) => this.o.logger.warn('sessions.seen-write-failed', { sessions: batch.length, error: describeError(err) }),
        )
    }
    await this.writing
  }

  /** Write what is batched and leave: this relay's presence no longer counts. */
  async close(): Promise<void> {
    await this.flush()
    try {
      await query(this.pool, 'DELETE FROM apisync_presence WHERE relay = $1', [this.relayId])
      await query(this.pool, 'DELETE FROM apisync_relays WHERE id = $1', [this.relayId])
    } catch (err) {
      this.o.logger.warn('sessions.leave-failed', { error: describeError(err) })
    }
  }
}

function postgresKeyBackups(pool: PgPool): KeyBackupStore {
  return {
    async get(account) {
      const { rows } = await query<{ backup: string; updated_at: string }>(pool, 'SELECT backup, updated_at FROM apisync_key_backups WHERE account = $1', [account])
      return rows[0] ? { backup: rows[0].backup, updatedAt: Number(rows[0].updated_at) } : undefined
    },
    async put(account, backup) {
      await query(
        pool,
        `INSERT INTO apisync_key_backups (account, backup, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (account) DO UPDATE SET backup = excluded.backup, updated_at = excluded.updated_at`,
        [account, backup, Date.now()],
      )
    },
    async delete(account) {
      await query(pool, 'DELETE FROM apisync_key_backups WHERE account = $1', [account])
    },
  }
}

function postgresDevAccounts(pool: PgPool): DevAccountStore {
  return {
    async secret(candidate) {
      await query(pool, "INSERT INTO apisync_dev_settings (key, value) VALUES ('secret', $1) ON CONFLICT DO NOTHING", [candidate])
      const { rows } = await query<{ value: string }>(pool, "SELECT value FROM apisync_dev_settings WHERE key = 'secret'")
      return rows[0].value
    },
    async account(name, candidate) {
      await query(pool, 'INSERT INTO apisync_dev_accounts (name, sub, workspace) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [name, candidate.sub, candidate.workspace])
      const { rows } = await query<{ sub: string; workspace: string }>(pool, 'SELECT sub, workspace FROM apisync_dev_accounts WHERE name = $1', [name])
      return rows[0]
    },
    // Kept as a setting per account (`key:<sub>`): no schema change for a dev-only fact.
    async accountKey(sub, candidate) {
      if (candidate !== null)
        await query(pool, 'INSERT INTO apisync_dev_settings (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING', [`key:${sub}`, candidate])
      const { rows } = await query<{ value: string }>(pool, 'SELECT value FROM apisync_dev_settings WHERE key = $1', [`key:${sub}`])
      return rows[0]?.value ?? null
    },
  }
}
