/**
 * Sessions as one relay holds them: which sessions (the token's `sid`: one signed-in app on one device) have
 * open connections here, and closing them when a session is revoked or its account deleted. What is true for
 * every relay (the records, the device limit, revocations, tombstones) is in the SessionRegistry
 * (registry.ts); revocations go out on the bus so that other relays close their sockets at once, and a timer
 * re-checks the registry so that a lost message still takes effect within `recheckIntervalMs`.
 */
import type { AccessClaims } from './auth.js'
import type { ControlEvent } from './bus.js'
import { CloseCode, closeReason } from './close-codes.js'
import { RelayError } from './errors.js'
import { accountSpaceId } from './account-space.js'
import type { Logger } from './logger.js'
import { describeError } from './logger.js'
import type { DeviceLimit, DevicePolicy, OnlineResult, SessionRecord, SessionRegistry } from './registry.js'

export type { DevicePolicy }

/** An open connection as the sessions see it. */
export interface LiveConnection {
  readonly claims: AccessClaims
  readonly closed: boolean
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
  /** Open sync connections of this session (on every relay). */
  connections: number
}

interface LiveSession {
  sid: string
  account: string
  connections: Set<LiveConnection>
  lastActive: number
}

export interface SessionsOptions extends DeviceLimit {
  /** Heartbeat to the registry and re-check of revocations this often. */
  recheckIntervalMs: number
}

export class Sessions {
  private readonly live = new Map<string, LiveSession>()
  /** Sessions whose first connection here is being admitted: later connections of the same session wait for it. */
  private readonly arriving = new Map<string, Promise<OnlineResult>>()
  private readonly timer: NodeJS.Timeout
  private rechecking = false

  constructor(
    private readonly registry: SessionRegistry,
    readonly options: SessionsOptions,
    /** Tell the other relays (bus.ts); a no-op with one relay. */
    private readonly announce: (event: ControlEvent) => void,
    private readonly logger: Logger,
    /** Workspaces with docs loaded here, for the re-check. */
    private readonly loadedWorkspaces: () => Iterable<string>,
    /** A workspace (or a deleted account's own space) was deleted: drop its docs here, and what they stored. */
    private readonly workspaceDeleted: (workspaceId: string) => void,
  ) {
    this.timer = setInterval(() => void this.recheck(), options.recheckIntervalMs)
    this.timer.unref()
  }

  /**
   * Let a connection in: the registry's refusal checks for every connection, and, for a session's first
   * connection on this relay, the device limit (`refuse`: a 4409 carrying the live sessions; `evict-lru`: the
   * least recently active sessions are revoked, here and on every relay, to make room).
   */
  async admit(conn: LiveConnection, workspaceId: string, userAgent: string | null): Promise<RelayError | null> {
    const { claims } = conn
    const refused = await this.registry.refusal(claims, workspaceId)
    if (refused) return refused
    let session = this.live.get(claims.sid)
    if (session && session.account !== claims.sub) return new RelayError(4401, 'session belongs to another account')
    if (!session) {
      let arriving = this.arriving.get(claims.sid)
      if (!arriving) {
        arriving = this.registry.comeOnline(claims, userAgent, this.options, () => [...this.live.keys(), ...this.arriving.keys()])
        this.arriving.set(claims.sid, arriving)
        void arriving.finally(() => this.arriving.delete(claims.sid)).catch(() => {})
        const result = await arriving
        if (result.ok) {
          for (const sid of result.evicted) {
            this.closeLive(sid, 'evicted: device limit')
            this.announce({ kind: 'session', account: claims.sub, sid, reason: 'evicted: device limit' })
          }
        }
      }
      const result = await arriving
      if (!result.ok) return result.error
      session = this.live.get(claims.sid)
      if (!session) {
        session = { sid: claims.sid, account: claims.sub, connections: new Set(), lastActive: Date.now() }
        this.live.set(claims.sid, session)
      }
    } else this.registry.seen(claims, userAgent)
    if (conn.closed) {
      this.release(conn)
      return null
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

  /** A connection closed (or was never fully admitted). */
  release(conn: LiveConnection): void {
    const sid = conn.claims.sid
    const session = this.live.get(sid)
    if (!session) return
    session.connections.delete(conn)
    if (session.connections.size > 0) return
    this.live.delete(sid)
    this.registry.goOffline(sid).catch((err: unknown) => this.logger.warn('sessions.offline-failed', { error: describeError(err) }))
  }

  /** The account's sessions that are not revoked, with live connection counts on every relay. */
  async list(account: string): Promise<SessionInfo[]> {
    const records = await this.registry.list(account)
    return records.map((r: SessionRecord) => {
      const here = this.live.get(r.sid)
      return {
        sid: r.sid,
        account: r.account,
        device: r.device,
        userAgent: r.userAgent,
        firstSeen: r.firstSeen,
        lastSeen: Math.max(r.lastSeen, here?.lastActive ?? 0),
        connections: r.connectionsElsewhere + (here?.connections.size ?? 0),
      }
    })
  }

  /** Revoke one session of `account`: its sockets close with 4410 on every relay, its tokens are refused. */
  async revoke(account: string, sid: string, reason = 'session revoked'): Promise<boolean> {
    const changed = await this.registry.revoke(account, sid, reason)
    if (this.live.get(sid)?.account === account) this.closeLive(sid, reason)
    if (changed) this.announce({ kind: 'session', account, sid, reason })
    return changed
  }

  /** Revoke all of the account's sessions, except `keepSid` if given; returns the revoked ids. */
  async revokeAll(account: string, keepSid?: string): Promise<string[]> {
    const sids = (await this.registry.list(account)).map((s) => s.sid).filter((sid) => sid !== keepSid)
    const revoked: string[] = []
    for (const sid of sids) if (await this.revoke(account, sid)) revoked.push(sid)
    return revoked
  }

  /**
   * Forget the account's sessions, refuse every token of it issued until now (4410) and `workspaces` to
   * everyone (4403); close what is open of them here and on every relay.
   */
  async deleteAccount(account: string, workspaces: readonly string[]): Promise<void> {
    const deletedAt = await this.registry.deleteAccount(account, workspaces)
    this.accountDeleted(account, deletedAt)
    this.announce({ kind: 'account', account, deletedAt })
    for (const workspace of workspaces) this.announce({ kind: 'workspace', workspace })
  }

  /** Another relay revoked a session or deleted an account (bus.ts). */
  controlEvent(event: ControlEvent): void {
    switch (event.kind) {
      case 'session':
        if (this.live.get(event.sid)?.account === event.account) this.closeLive(event.sid, event.reason)
        break
      case 'account':
        this.accountDeleted(event.account, event.deletedAt)
        // Its own space goes with it: the relay that deleted it deleted its docs; this one may hold some open.
        this.workspaceDeleted(accountSpaceId(event.account))
        break
      case 'workspace':
        this.workspaceDeleted(event.workspace)
        break
    }
  }

  /**
   * Report this relay's live sessions to the registry and close whatever was revoked or deleted meanwhile:
   * the safety net under the bus, bounding how long a lost revocation message can go unnoticed.
   */
  async recheck(): Promise<void> {
    if (this.rechecking) return
    this.rechecking = true
    try {
      const live = [...this.live.values()]
      const since = Date.now()
      await this.registry.heartbeat(
        live.map((s) => ({ sid: s.sid, account: s.account, connections: s.connections.size, lastActive: s.lastActive })),
        since,
        [...this.arriving.keys()],
      )
      const found = await this.registry.invalidated({
        sids: live.map((s) => s.sid),
        accounts: [...new Set(live.map((s) => s.account))],
        workspaces: [...new Set(this.loadedWorkspaces())],
      })
      for (const { sid, account, reason } of found.revokedSessions) if (this.live.get(sid)?.account === account) this.closeLive(sid, reason)
      for (const { account, deletedAt } of found.deletedAccounts) {
        this.accountDeleted(account, deletedAt)
        this.workspaceDeleted(accountSpaceId(account))
      }
      for (const workspace of found.deletedWorkspaces) this.workspaceDeleted(workspace)
    } catch (err) {
      this.logger.warn('sessions.recheck-failed', { error: describeError(err) })
    } finally {
      this.rechecking = false
    }
  }

  get liveSessions(): number {
    return this.live.size
  }

  close(): void {
    clearInterval(this.timer)
  }

  /** Close the connections of an account whose tokens predate its deletion. */
  private accountDeleted(account: string, deletedAt: number): void {
    for (const session of [...this.live.values()]) {
      if (session.account !== account) continue
      for (const conn of [...session.connections]) {
        if ((conn.claims.iat ?? 0) * 1000 <= deletedAt) conn.close(CloseCode.sessionRevoked, 'account deleted')
      }
    }
  }

  private closeLive(sid: string, reason: string): void {
    const session = this.live.get(sid)
    if (!session) return
    for (const conn of [...session.connections]) conn.close(CloseCode.sessionRevoked, reason)
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
