/**
 * The entry point: `createSyncClient({ relayUrl, getToken })`. Holds the accounts signed in on this device,
 * which one is current, the scratch pad, and the device's network state.
 */
import { Account, type AdoptOptions, type AdoptResult, type SignOutOptions, type SignOutResult } from './account.js'
import { KeptBackups, type KeptBackup } from './kept-backups.js'
import { type EndReason, type TabChannel, type TabCoordination, browserTabs } from './tabs.js'
import type { BackoffOptions } from './backoff.js'
import { DEFAULT_BACKOFF } from './backoff.js'
import type { ConnectionContext, WebSocketClass } from './doc-connection.js'
import { DocSpace } from './doc-space.js'
import { PendingChangesError, SyncClientError } from './errors.js'
import { deleteDatabase, listDatabases } from './idb.js'
import { type NetworkMonitor, browserNetwork } from './network.js'
import { type AccountRecord, Registry } from './registry.js'
import { SCRATCH_WORKSPACE_ID, adoptInto } from './scratch.js'
import { sessionsApi } from './sessions.js'
import { type Subscribable, type SyncProblem, Store } from './status.js'
import { type GetToken, type TokenInfo, TokenSource, readToken } from './token.js'
import { type RelayEndpoints, relayEndpoints } from './url.js'
import { Workspace } from './workspace.js'
import { encodeBackup } from './backup.js'

export interface SyncClientOptions {
  /** The relay: `https://…` (or `wss://…`). Plain http/ws only for localhost, unless `allowInsecure`. */
  readonly relayUrl: string
  /** Returns an access token (JWT) for the account; see GetToken. */
  readonly getToken: GetToken
  /** IndexedDB to store in. Default: the global `indexedDB` (in Node pass one, e.g. fake-indexeddb's). */
  readonly indexedDB?: IDBFactory
  /** WebSocket implementation. Default: the global one (in Node 20 pass `WebSocket` from 'ws'). */
  readonly WebSocket?: WebSocketClass
  /** Allow plain ws:// and http:// to hosts other than localhost (tokens and edits travel in clear). */
  readonly allowInsecure?: boolean
  /** fetch for the sessions API. Default: the global one. */
  readonly fetch?: typeof fetch
  /** Online/offline. Default: the browser's events (always online where there are none). */
  readonly network?: NetworkMonitor
  /** Reconnect delays. Default 250 ms doubling to 15 s, with jitter. */
  readonly backoff?: BackoffOptions
  /** Give up on a socket that has not opened after this long, and retry. Default 10 s. */
  readonly connectTimeoutMs?: number
  /**
   * Refused by the device limit (4409), the account tries again this often, quietly (the error stays shown
   * until the relay lets it in), so that it syncs once another device has gone. Default 30 s; 0: only on
   * `account.reconnect()`.
   */
  readonly deviceLimitRetryMs?: number
  /**
   * The other tabs of this device (Web Locks and BroadcastChannel): default the browser's where both exist;
   * null makes this client a tab alone (each client is then its own device, as in Node).
   */
  readonly tabs?: TabCoordination | null
  /** Edits of one field this close together count as one pending action. Default 1000 ms. */
  readonly actionWindowMs?: number
  /**
   * This device's name ("Laptop"), recorded with every edit so that a conflict between two devices of one
   * person reads "you, on Laptop" / "you, on Desktop". Default: the `name` claim of the account's token (the
   * device name, as the relay's tokens carry it).
   */
  readonly deviceName?: string
}

export interface ClientSnapshot {
  /** False until the device's account list was read. */
  readonly loaded: boolean
  /** Accounts signed in on this device, oldest first. */
  readonly accounts: readonly AccountRecord[]
  readonly currentAccountId: string | null
}

export interface SyncClient extends Subscribable<ClientSnapshot> {
  readonly relay: RelayEndpoints
  /**
   * Signs an account in: with `token`, or with what getToken({ accountId: null }) returns. The account is the
   * token's `sub`; if it was signed in before, its local data is kept and merges with the relay's.
   * It becomes the current account.
   */
  signIn(token?: string): Promise<Account>
  /** An account signed in on this device (tokens come from getToken as needed). */
  account(id: string): Promise<Account>
  /** The current account, if any. */
  current(): Promise<Account | null>
  switchAccount(id: string): Promise<Account>
  /** See Account.signOut. */
  signOut(accountId: string, options?: SignOutOptions): Promise<SignOutResult>
  /** The scratch pad: a local-only workspace with no account; it never connects. */
  scratchPad(): Promise<Workspace>
  /**
   * Backups kept on this device of changes the relay lacked when an account's data was deleted here (sign-out
   * with `force`, revocation, deletion), oldest first. Restore one with Account.importBackup(backup.bytes).
   */
  keptBackups(): Promise<KeptBackup[]>
  /** Forgets a kept backup (after it was restored or downloaded). */
  discardKeptBackup(id: string): Promise<void>
  /** Closes every account and the scratch pad (what is buffered is stored first). */
  close(): Promise<void>
}

const SCRATCH_PREFIX = 'apisync-scratch:'
export const accountPrefix = (accountId: string): string => `apisync:${encodeURIComponent(accountId)}:`

export const createSyncClient = (options: SyncClientOptions): SyncClient => new Client(options)

class Client implements SyncClient {
  readonly relay: RelayEndpoints
  private readonly factory: IDBFactory
  private readonly network: NetworkMonitor
  private readonly registry: Promise<Registry>
  private readonly accounts = new Map<string, Account>()
  private readonly store = new Store<ClientSnapshot>({ loaded: false, accounts: [], currentAccountId: null })
  private scratch: { space: DocSpace; workspace: Promise<Workspace> } | null = null
  private readonly unsubscribeNetwork: () => void
  private readonly tabs: TabCoordination | null
  /** Tells the other tabs that the account list or the current account changed. */
  private readonly channel: TabChannel | null
  private readonly kept: KeptBackups
  private closed = false

  constructor(private readonly o: SyncClientOptions) {
    this.relay = relayEndpoints(o.relayUrl, o.allowInsecure)
    const factory = o.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB
    if (!factory) throw new SyncClientError('NO_INDEXEDDB', 'no IndexedDB here: pass options.indexedDB (in Node, e.g. fake-indexeddb)')
    this.factory = factory
    this.network = o.network ?? browserNetwork()
    this.unsubscribeNetwork = this.network.subscribe((online) => {
      for (const account of this.accounts.values()) account.space.setOnline(online)
    })
    this.registry = Registry.open(factory)
    this.registry.then(() => this.publish()).catch(() => {})
    this.kept = new KeptBackups(factory)
    this.tabs = o.tabs === undefined ? browserTabs() : o.tabs
    this.channel = this.tabs?.channel('apisync:client') ?? null
    this.channel?.addEventListener('message', (event) => {
      const m = event.data as { t?: string; id?: string } | null
      if (this.closed || !m) return
      // Another tab switched accounts: this one follows (one current account per device), and stops the others.
      if (m.t === 'current' && typeof m.id === 'string') void this.closeAllBut(m.id).then(() => this.publish())
      else if (m.t === 'accounts') void this.publish()
    })
  }

  readonly subscribe = (listener: () => void): (() => void) => this.store.subscribe(listener)
  readonly getSnapshot = (): ClientSnapshot => this.store.getSnapshot()

  async signIn(token?: string): Promise<Account> {
    this.check()
    const info = readToken(token ?? (await this.o.getToken({ accountId: null })))
    const registry = await this.registry
    const known = (await registry.accounts()).find((a) => a.id === info.accountId)
    const record: AccountRecord = {
      id: info.accountId,
      name: info.name,
      workspaces: info.workspaces,
      signedInAt: known?.signedInAt ?? Date.now(),
    }
    await registry.putAccount(record)
    await registry.setCurrent(record.id)
    await this.closeAllBut(record.id)
    const account = this.instantiate(record, info)
    await this.publish()
    this.tell({ t: 'current', id: record.id })
    return account
  }

  async account(id: string): Promise<Account> {
    this.check()
    const cached = this.accounts.get(id)
    if (cached) return cached
    const record = (await (await this.registry).accounts()).find((a) => a.id === id)
    if (!record) throw new SyncClientError('NO_SUCH_ACCOUNT', `account ${id} is not signed in on this device`)
    return this.instantiate(record, null)
  }

  async current(): Promise<Account | null> {
    const id = await (await this.registry).current()
    return id === null ? null : this.account(id)
  }

  /** Makes `id` the current account, here and in every other tab; the other accounts' docs close. */
  async switchAccount(id: string): Promise<Account> {
    const account = await this.account(id)
    await (await this.registry).setCurrent(id)
    await this.closeAllBut(id)
    await this.publish()
    this.tell({ t: 'current', id })
    return account
  }

  async signOut(accountId: string, options: SignOutOptions = {}): Promise<SignOutResult> {
    const account = await this.account(accountId)
    const before = await account.pendingChanges()
    if (before > 0 && !options.force) throw new PendingChangesError(before)
    return this.endAccount(account, 'signed-out', null, options.relayTimeoutMs ?? 5_000)
  }

  async deleteAccount(accountId: string): Promise<SignOutResult> {
    const account = await this.account(accountId)
    const token = await account.token()
    const fetchFn = this.o.fetch ?? globalThis.fetch.bind(globalThis)
    const res = await fetchFn(`${this.relay.http}/account`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })
    if (!res.ok) throw new SyncClientError('HTTP', `DELETE /account: ${res.status} ${(await res.text().catch(() => '')).slice(0, 200)}`)
    return this.endAccount(account, 'deleted', null, 0)
  }

  keptBackups(): Promise<KeptBackup[]> {
    return this.kept.list()
  }

  discardKeptBackup(id: string): Promise<void> {
    return this.kept.discard(id)
  }

  /**
   * The end of an account on this device, in every tab: every tab stops at once (no frame leaves from here
   * on) and stores what it holds; for a sign-out, the relay ends the session; what the relay lacked is kept as
   * a backup; the account's databases are deleted; every tab learns where the backup is.
   */
  private async endAccount(account: Account, reason: EndReason, problem: SyncProblem | null, relayTimeoutMs: number): Promise<SignOutResult> {
    const space = account.space
    const sid = account.sessionId
    await space.end(reason, problem)
    await space.othersStopped(5_000)
    let sessionEnded = reason !== 'signed-out'
    if (reason === 'signed-out' && sid && relayTimeoutMs > 0) sessionEnded = await withTimeout(account.sessions.revoke(sid), relayTimeoutMs)
    const docs = await space.unackedChanges()
    const pending = docs.reduce((n, d) => n + d.pending, 0)
    const backup = docs.length > 0 ? encodeBackup({ accountId: account.id, createdAt: Date.now(), docs: docs.map(({ name, update }) => ({ name, update })) }) : null
    const kept = backup ? await this.kept.put({ accountId: account.id, accountName: account.name, reason, createdAt: Date.now(), pending, bytes: backup }) : null
    this.accounts.delete(account.id)
    const deleted = await this.deleteSpace(space)
    await (await this.registry).removeAccount(account.id, deleted)
    await this.publish()
    space.finishEnd(kept?.id ?? null, pending)
    space.detach()
    this.tell({ t: 'accounts' })
    return { backup, keptBackupId: kept?.id ?? null, deleted, sessionEnded }
  }

  /** Closes the accounts other than `id` in this tab (their docs are stored first; other tabs lead them). */
  private async closeAllBut(id: string): Promise<void> {
    for (const [other, account] of [...this.accounts]) {
      if (other === id || account.ended.getSnapshot()) continue
      this.accounts.delete(other)
      await account.close()
    }
  }

  private tell(message: { t: 'current'; id: string } | { t: 'accounts' }): void {
    try {
      this.channel?.postMessage(message)
    } catch {
      // The page is going away.
    }
  }

  scratchPad(): Promise<Workspace> {
    this.check()
    if (!this.scratch) {
      const space = new DocSpace({ factory: this.factory, prefix: SCRATCH_PREFIX, connection: null, databases: this.databases(), tabs: this.tabs, ...this.window() })
      const workspace = Workspace.open(space, SCRATCH_WORKSPACE_ID, null, { actor: 'scratch', ...(this.o.deviceName ? { device: this.o.deviceName } : {}) }, () => {}, { name: 'Scratch pad' })
      this.scratch = { space, workspace }
      workspace.catch(() => (this.scratch = null))
    }
    return this.scratch.workspace
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.unsubscribeNetwork()
    await Promise.all([...this.accounts.values()].map((a) => a.close()))
    this.accounts.clear()
    if (this.scratch) await this.scratch.space.close()
    this.channel?.close()
    this.kept.close()
    ;(await this.registry.catch(() => null))?.close()
  }

  // ------------------------------------------------------------------------------------------- internals

  private instantiate(record: AccountRecord, info: TokenInfo | null): Account {
    const existing = this.accounts.get(record.id)
    if (existing) {
      existing.updateRecord(record)
      if (info) existing.acceptToken(info)
      return existing
    }
    const tokens = new TokenSource(record.id, this.o.getToken, info, (next) => this.tokenChanged(next))
    let account: Account | undefined
    const WebSocketImpl = this.o.WebSocket ?? (globalThis as { WebSocket?: WebSocketClass }).WebSocket
    if (!WebSocketImpl) throw new SyncClientError('NO_WEBSOCKET', 'no WebSocket here: pass options.WebSocket (in Node 20, from "ws")')
    let space: DocSpace | undefined
    const connection: ConnectionContext = {
      syncUrl: this.relay.sync,
      httpUrl: this.relay.http,
      WebSocket: WebSocketImpl,
      backoff: { ...DEFAULT_BACKOFF, ...this.o.backoff },
      connectTimeoutMs: this.o.connectTimeoutMs ?? 10_000,
      deviceLimitRetryMs: this.o.deviceLimitRetryMs ?? 30_000,
      token: () => tokens.get(),
      refreshToken: (stale) => tokens.refresh(stale),
      sessionEnded: (problem) => {
        if (account) void this.sessionEnded(account, problem)
      },
      reachable: () => space?.reachable(),
      admitted: () => space?.admitted(),
      mayWrite: () => space?.mayWrite() ?? false,
    }
    space = new DocSpace({ factory: this.factory, prefix: accountPrefix(record.id), connection, databases: this.databases(), tabs: this.tabs, ...this.window() })
    space.setOnline(this.network.online)
    const ended = space
    // Ended in another tab: once it is done there, this tab forgets the account too.
    ended.ended.subscribe(() => {
      if (ended.ended.getSnapshot().value?.done && this.accounts.get(record.id) === account) {
        this.accounts.delete(record.id)
        ended.detach()
        void this.publish()
      }
    })
    const fetchFn = this.o.fetch ?? globalThis.fetch.bind(globalThis)
    account = new Account(record, space, tokens, sessionsApi(this.relay.http, tokens, fetchFn), this)
    this.accounts.set(record.id, account)
    return account
  }

  /**
   * Revocation: the account signs out here (in every tab), keeping what the relay lacked as a backup. Device
   * limit: every doc of the account stops, and the error says which sessions are connected.
   */
  private async sessionEnded(account: Account, problem: SyncProblem): Promise<void> {
    if (problem.reason === 'revoked') {
      await this.endAccount(account, 'revoked', problem, 0).catch(() => {})
      return
    }
    account.space.fail(problem)
    if (problem.reason !== 'device-limit' || problem.sessions) return
    try {
      const sessions = await account.sessions.list()
      account.space.fail({ ...problem, sessions })
    } catch {
      // The list is a courtesy: the error stands without it.
    }
  }

  private tokenChanged(info: TokenInfo): void {
    void (async () => {
      const registry = await this.registry
      const record = (await registry.accounts()).find((a) => a.id === info.accountId)
      if (!record) return
      const next = { ...record, name: info.name ?? record.name, workspaces: info.workspaces }
      await registry.putAccount(next)
      this.accounts.get(info.accountId)?.updateRecord(next)
      await this.publish()
    })().catch(() => {})
  }

  get deviceName(): string | undefined {
    return this.o.deviceName
  }

  async adoptScratchPad(account: Account, workspaceId: string, options?: AdoptOptions): Promise<AdoptResult> {
    const scratch = await this.scratchPad()
    const target = await account.openWorkspace(workspaceId)
    const result = await adoptInto(scratch, target, options)
    // Everything is stored in the account now: empty the scratch pad.
    const space = this.scratch!.space
    this.scratch = null
    await space.end('signed-out', null)
    await space.othersStopped(3_000)
    await space.close()
    await this.deleteSpace(space)
    return result
  }

  /** Deletes every database of a closed space, and checks that none is left. */
  private async deleteSpace(space: DocSpace): Promise<string[]> {
    const names = await space.storedDatabases()
    for (const name of names) await deleteDatabase(this.factory, name)
    const left = ((await listDatabases(this.factory)) ?? []).filter((n) => n.startsWith(space.databaseName('')))
    if (left.length > 0) throw new SyncClientError('SIGN_OUT_INCOMPLETE', `local databases are left: ${left.join(', ')}`)
    await (await this.registry).forgetDatabases(names)
    return names
  }

  private window(): { actionWindowMs?: number } {
    return this.o.actionWindowMs !== undefined ? { actionWindowMs: this.o.actionWindowMs } : {}
  }

  private databases() {
    const registry = this.registry
    return {
      note: async (name: string) => (await registry).note(name),
      list: async (prefix: string) => (await registry).list(prefix),
    }
  }

  private async publish(): Promise<void> {
    const registry = await this.registry
    const [accounts, currentAccountId] = await Promise.all([registry.accounts(), registry.current()])
    const prev = this.store.getSnapshot()
    const same =
      prev.loaded &&
      prev.currentAccountId === currentAccountId &&
      prev.accounts.length === accounts.length &&
      prev.accounts.every((a, i) => JSON.stringify(a) === JSON.stringify(accounts[i]))
    if (!same) this.store.set({ loaded: true, accounts, currentAccountId })
  }

  private check(): void {
    if (this.closed) throw new SyncClientError('CLOSED', 'this client is closed')
  }
}

/** True if `p` resolved within `ms`; false if it failed or took longer. */
const withTimeout = (p: Promise<unknown>, ms: number): Promise<boolean> =>
  new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms)
    p.then(
      () => {
        clearTimeout(timer)
        resolve(true)
      },
      () => {
        clearTimeout(timer)
        resolve(false)
      },
    )
  })
