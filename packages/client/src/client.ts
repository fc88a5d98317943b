/**
 * The entry point: `createSyncClient({ relayUrl, getToken })`. Holds the accounts signed in on this device,
 * which one is current, the scratch pad, and the device's network state.
 */
import { Account, type AdoptResult, type SignOutOptions, type SignOutResult } from './account.js'
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
    const account = this.instantiate(record, info)
    await this.publish()
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

  async switchAccount(id: string): Promise<Account> {
    const account = await this.account(id)
    await (await this.registry).setCurrent(id)
    await this.publish()
    return account
  }

  async signOut(accountId: string, options: SignOutOptions = {}): Promise<SignOutResult> {
    const account = await this.account(accountId)
    const before = await account.pendingChanges()
    if (before > 0 && !options.force) throw new PendingChangesError(before)
    // Close first, then count again from storage: a change made meanwhile is not lost either.
    this.accounts.delete(accountId)
    await account.close()
    const space = account.space
    const pending = await space.pending()
    const total = [...pending.values()].reduce((a, b) => a + b, 0)
    if (total > 0 && !options.force) throw new PendingChangesError(total)
    const docs = total > 0 ? await space.unackedChanges() : []
    const backup = docs.length > 0 ? encodeBackup({ accountId, createdAt: Date.now(), docs }) : null
    const deleted = await this.deleteSpace(space)
    const registry = await this.registry
    await registry.removeAccount(accountId, deleted)
    await this.publish()
    return { backup, deleted }
  }

  scratchPad(): Promise<Workspace> {
    this.check()
    if (!this.scratch) {
      const space = new DocSpace({ factory: this.factory, prefix: SCRATCH_PREFIX, connection: null, databases: this.databases() })
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
    const connection: ConnectionContext = {
      syncUrl: this.relay.sync,
      WebSocket: WebSocketImpl,
      backoff: { ...DEFAULT_BACKOFF, ...this.o.backoff },
      connectTimeoutMs: this.o.connectTimeoutMs ?? 10_000,
      token: () => tokens.get(),
      refreshToken: (stale) => tokens.refresh(stale),
      sessionEnded: (problem) => {
        if (account) void this.sessionEnded(account, problem)
      },
    }
    const space = new DocSpace({ factory: this.factory, prefix: accountPrefix(record.id), connection, databases: this.databases() })
    space.setOnline(this.network.online)
    const fetchFn = this.o.fetch ?? globalThis.fetch.bind(globalThis)
    account = new Account(record, space, tokens, sessionsApi(this.relay.http, tokens, fetchFn), this)
    this.accounts.set(record.id, account)
    return account
  }

  /** Device limit or revocation: every doc of the account stops; for the device limit, say who is connected. */
  private async sessionEnded(account: Account, problem: SyncProblem): Promise<void> {
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

  async adoptScratchPad(account: Account, workspaceId: string): Promise<AdoptResult> {
    const scratch = await this.scratchPad()
    const target = await account.openWorkspace(workspaceId)
    const result = await adoptInto(scratch, target)
    // Everything is stored in the account now: empty the scratch pad.
    const space = this.scratch!.space
    this.scratch = null
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
