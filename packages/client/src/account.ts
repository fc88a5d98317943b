/**
 * One signed-in account on this device: its token, its namespace of local databases, the workspaces it
 * opened, one status for all its docs, its sessions, backups of what the relay has not acked.
 */
import { type OpenOptions, type WorkspaceInit, parseDocName } from '@apisync/model'
import * as Y from 'yjs'
import { decodeBackup, encodeBackup } from './backup.js'
import type { DocSpace } from './doc-space.js'
import type { AccountRecord, Role } from './registry.js'
import type { SessionsApi } from './sessions.js'
import { SyncClientError } from './errors.js'
import { type AccountStatus, type Subscribable, whenState } from './status.js'
import type { TokenInfo, TokenSource } from './token.js'
import { Workspace } from './workspace.js'

const IMPORT_ORIGIN = Symbol('apisync-import')

export interface SignOutOptions {
  /** Sign out even with changes the relay has not acked (a backup of them is returned). */
  readonly force?: boolean
}

export interface SignOutResult {
  /** The unacked changes as a backup file (see exportBackup), or null when there were none. */
  readonly backup: Uint8Array | null
  /** The local databases that were deleted. */
  readonly deleted: readonly string[]
}

/** @internal What an account needs from its client. */
export interface AccountHost {
  /** The device's name, if the host app gave one (else the token's). */
  readonly deviceName?: string | undefined
  signOut(accountId: string, options: SignOutOptions): Promise<SignOutResult>
  adoptScratchPad(account: Account, workspaceId: string): Promise<AdoptResult>
}

export interface AdoptResult {
  /** Ids of the collections and environments now in the account's workspace (the same ids as before). */
  readonly collections: readonly string[]
  readonly environments: readonly string[]
}

export class Account {
  private readonly workspaces = new Map<string, Promise<Workspace>>()

  /** @internal Use SyncClient.signIn / SyncClient.account. */
  constructor(
    private record: AccountRecord,
    /** @internal */ readonly space: DocSpace,
    private readonly tokens: TokenSource,
    /** Sessions of this account on the relay: list, revoke one, revoke all. */
    readonly sessions: SessionsApi,
    private readonly host: AccountHost,
  ) {}

  get id(): string {
    return this.record.id
  }

  /** The name the last token carried, if any. */
  get name(): string | null {
    return this.record.name
  }

  /** This device's name, recorded with edits (see SyncClientOptions.deviceName). */
  get deviceName(): string | null {
    return this.host.deviceName ?? this.tokens.current?.name ?? this.record.name ?? null
  }

  /** Who writes through this account's models: the account, on this device. */
  private get writer(): OpenOptions {
    const device = this.deviceName
    return device === null ? { actor: this.id } : { actor: this.id, device }
  }

  /** Workspaces the account's last token granted, with roles. */
  get grants(): Readonly<Record<string, Role>> {
    return this.tokens.current?.workspaces ?? this.record.workspaces
  }

  /** This client's session id (from the token), once a token was fetched. */
  get sessionId(): string | null {
    return this.tokens.current?.sessionId ?? null
  }

  /** The state of every open doc of the account, combined, with the pending count summed. */
  get status(): Subscribable<AccountStatus> {
    return this.space.status
  }

  /** @internal */
  updateRecord(record: AccountRecord): void {
    this.record = record
  }

  /** @internal A token the host handed to signIn(). */
  acceptToken(info: TokenInfo): void {
    this.tokens.accept(info)
  }

  /** Opens a workspace: its manifest from local data at once (empty on a new device until it syncs). */
  openWorkspace(id: string): Promise<Workspace> {
    let ws = this.workspaces.get(id)
    if (!ws) {
      ws = Workspace.open(this.space, id, this.grants[id] ?? null, this.writer, this.forget)
      this.workspaces.set(id, ws)
      ws.catch(() => this.workspaces.delete(id))
    }
    return ws
  }

  /** Creates a workspace's manifest (the id must be one the relay grants this account, e.g. a new one it issued). */
  async createWorkspace(id: string, init: WorkspaceInit = {}): Promise<Workspace> {
    const existing = this.workspaces.get(id)
    if (existing) return existing
    const ws = Workspace.open(this.space, id, this.grants[id] ?? null, this.writer, this.forget, init)
    this.workspaces.set(id, ws)
    ws.catch(() => this.workspaces.delete(id))
    return ws
  }

  /** Resolves when the relay has stored every local change of every open doc; rejects on `error`. */
  whenInSync(signal?: AbortSignal): Promise<AccountStatus> {
    return whenState(this.space.status, 'in-sync', signal)
  }

  /** Clears an error (e.g. after revoking another session to get under the device limit) and reconnects. */
  reconnect(): void {
    this.space.retry()
  }

  /** Local changes the relay has not acked, over every doc of the account (open or not). */
  async pendingChanges(): Promise<number> {
    let total = 0
    for (const n of (await this.space.pending()).values()) total += n
    return total
  }

  /**
   * A backup file of every change the relay has not acked (see backup.ts), or null if there is none. Keep it
   * before a forced sign-out; importBackup() puts the changes back (on any device, for this account).
   */
  async exportBackup(): Promise<Uint8Array | null> {
    const docs = await this.space.unackedChanges()
    return docs.length === 0 ? null : encodeBackup({ accountId: this.id, createdAt: Date.now(), docs })
  }

  /** Applies a backup's changes to this account's docs (they become local changes and sync); returns the doc names. */
  async importBackup(bytes: Uint8Array): Promise<string[]> {
    const backup = decodeBackup(bytes)
    if (backup.accountId !== this.id)
      throw new SyncClientError('BAD_BACKUP', `this backup holds changes of account ${backup.accountId}, not ${this.id}`)
    const names: string[] = []
    for (const { name, update } of backup.docs) {
      const address = parseDocName(name)
      if (!address) throw new SyncClientError('BAD_BACKUP', `the backup names an invalid doc ${JSON.stringify(name)}`)
      const handle = await (await this.openWorkspace(address.workspaceId)).openDoc(address)
      Y.applyUpdate(handle.doc, update, IMPORT_ORIGIN)
      await handle.whenStored()
      names.push(name)
    }
    return names
  }

  /**
   * Moves the scratch pad's collections, environments and globals into this account's workspace `workspaceId`
   * (ids kept); they sync from then on, and the scratch pad is emptied.
   */
  adoptScratchPad(workspaceId: string): Promise<AdoptResult> {
    return this.host.adoptScratchPad(this, workspaceId)
  }

  /**
   * Signs out: refuses (PendingChangesError) while the relay lacks local changes unless `force`; then closes
   * everything and deletes exactly this account's local databases, checking that none is left.
   */
  signOut(options: SignOutOptions = {}): Promise<SignOutResult> {
    return this.host.signOut(this.id, options)
  }

  private readonly forget = (ws: Workspace): void => {
    this.workspaces.delete(ws.id)
  }

  /** @internal Closes the account's docs (storing what is buffered). */
  async close(): Promise<void> {
    this.workspaces.clear()
    await this.space.close()
  }
}
