/**
 * What the relay keeps besides docs, as narrow interfaces with one implementation per backend (SQLite for one
 * relay, Postgres for several): the session registry (sessions, which of them are live where, the device
 * limit, revocation, deleted accounts and workspaces), key backups, and dev-auth accounts.
 *
 * The registry is the truth that every relay consults; what one relay holds in memory (its sockets) lives in
 * sessions.ts. Revocations also travel on the bus so that other relays act at once (bus.ts); the registry's
 * `invalidated` is the periodic re-check that bounds the delay when such a message is lost.
 */
import type { AccessClaims } from './auth.js'
import type { RelayError } from './errors.js'

export type DevicePolicy = 'refuse' | 'evict-lru'

export interface DeviceLimit {
  /** Sessions of one account connected at once; 0 = no limit. */
  maxDevices: number
  devicePolicy: DevicePolicy
}

/** A session as the registry keeps it. */
export interface SessionRecord {
  sid: string
  account: string
  device: string | null
  userAgent: string | null
  /** Epoch milliseconds. */
  firstSeen: number
  lastSeen: number
  /** Open sync connections of this session on other relays (as of their last heartbeat). */
  connectionsElsewhere: number
}

/** A session with open connections on this relay, as reported in heartbeats. */
export interface LiveSessionReport {
  sid: string
  account: string
  connections: number
  /** Epoch milliseconds of its last activity here. */
  lastActive: number
}

export type OnlineResult =
  /** Admitted; `evicted` sessions were revoked (evict-lru) to make room and must be closed wherever they are. */
  | { ok: true; evicted: string[] }
  | { ok: false; error: RelayError }

/** What a periodic re-check found: live things this relay must close. */
export interface Invalidations {
  revokedSessions: { sid: string; account: string; reason: string }[]
  deletedAccounts: { account: string; deletedAt: number }[]
  deletedWorkspaces: string[]
}

export interface SessionRegistry {
  /**
   * Why this token may not be used now, in this order: its account was deleted after the token was issued
   * (4410), its session belongs to another account (4401) or is revoked (4410), or the workspace (if given)
   * was deleted (4403). Null if none.
   */
  refusal(claims: AccessClaims, workspaceId?: string): Promise<RelayError | null>
  /**
   * The session's first connection on this relay: the refusal checks and the device limit, atomically across
   * relays (two devices of one account connecting to two relays at once cannot both take the last place).
   * Records the session (and that it is live on this relay). `here` lists the sessions live or being admitted
   * on this relay at the moment of judging: what this relay knows of itself counts over what it has written
   * (a session whose last connection here closed is gone, even while its "offline" write is on its way).
   */
  comeOnline(claims: AccessClaims, userAgent: string | null, limit: DeviceLimit, here?: () => Iterable<string>): Promise<OnlineResult>
  /** The session's last connection on this relay closed. */
  goOffline(sid: string): Promise<void>
  /** Record that the session was seen (batched; never throws). */
  seen(claims: AccessClaims, userAgent: string | null): void
  /**
   * This relay's live sessions (connection counts, activity), taken at `since` (epoch ms), and that the relay
   * is alive. Sessions recorded as live here that are not in `live`, not `arriving` (being admitted) and have
   * not come online since `since` are no longer live here.
   */
  heartbeat(live: readonly LiveSessionReport[], since: number, arriving: readonly string[]): Promise<void>
  /** The account's sessions that are not revoked. */
  list(account: string): Promise<SessionRecord[]>
  /** Revoke one session of `account`; false if it is not the account's or already revoked. */
  revoke(account: string, sid: string, reason: string): Promise<boolean>
  /**
   * Forget the account's sessions and refuse every token of it issued until now; refuse `workspaces` to
   * everyone from now on; delete its key backup. Resolves to the deletion time (epoch ms).
   */
  deleteAccount(account: string, workspaces: readonly string[]): Promise<number>
  /** Which of these (live on this relay) were revoked or deleted. */
  invalidated(live: { sids: readonly string[]; accounts: readonly string[]; workspaces: readonly string[] }): Promise<Invalidations>
  /** The account a known session belongs to, or null. */
  accountOf(sid: string): Promise<string | null>
  /** Write what `seen` batched. */
  flush(): Promise<void>
}

/** One opaque key backup per account (see key-backups.ts). */
export interface KeyBackupStore {
  get(account: string): Promise<{ backup: string; updatedAt: number } | undefined>
  put(account: string, backup: string): Promise<void>
  delete(account: string): Promise<void>
}

/** Dev auth's state (dev-auth.ts): the signing secret and one account per name. */
export interface DevAccountStore {
  /** The stored secret, creating it from `candidate` if there is none yet (first caller wins). */
  secret(candidate: string): Promise<string>
  /** The account of `name`, creating it from `candidate` if there is none yet (first caller wins). */
  account(name: string, candidate: { sub: string; workspace: string }): Promise<{ sub: string; workspace: string }>
  /**
   * The thumbprint of the signing key bound to account `sub`, binding `candidate` if none is yet (first caller
   * wins); null when none is bound and no candidate is given.
   */
  accountKey(sub: string, candidate: string | null): Promise<string | null>
}

export interface Registry {
  readonly sessions: SessionRegistry
  readonly keyBackups: KeyBackupStore
  readonly devAccounts: DevAccountStore
  close(): Promise<void>
}
