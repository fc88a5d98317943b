/**
 * One signed-in account on this device: its token, its namespace of local databases, the workspaces it
 * opened, one status for all its docs, its sessions, its workspace directory, backups of what the relay has
 * not acked, and how it ended (signed out, revoked, deleted: in this tab or another).
 */
import { type CollectionModel, type EnvironmentModel, type OpenOptions, type WorkspaceInit, parseDocName } from '@apisync/model'
import * as Y from 'yjs'
import { decodeBackup, encodeBackup } from './backup.js'
import { WorkspaceDirectory, directoryDocName } from './directory.js'
import type { DocSpace, SpaceEnd } from './doc-space.js'
import { SyncClientError } from './errors.js'
import type { AccountRecord, Role } from './registry.js'
import type { SessionsApi } from './sessions.js'
import type { SyncedDoc } from './synced-doc.js'
import { type AccountStatus, type Subscribable, whenState } from './status.js'
import type { TokenInfo, TokenSource } from './token.js'
import { Workspace } from './workspace.js'

const IMPORT_ORIGIN = Symbol('apisync-import')

export interface SignOutOptions {
  /** Sign out even with changes the relay has not acked (a backup of them is returned and kept). */
  readonly force?: boolean
  /** Give up waiting for the relay to end the session after this long (default 5 s). */
  readonly relayTimeoutMs?: number
}

export interface SignOutResult {
  /** The unacked changes as a backup file (see exportBackup), or null when there were none. */
  readonly backup: Uint8Array | null
  /** Where the same backup is kept on this device (see SyncClient.keptBackups), or null. */
  readonly keptBackupId: string | null
  /** The local databases that were deleted. */
  readonly deleted: readonly string[]
  /** True when the relay ended the session (it no longer lists it); false when it could not be reached. */
  readonly sessionEnded: boolean
}

/** How the account ended on this device; null while it is signed in. */
export type AccountEnd = SpaceEnd

/** @internal What an account needs from its client. */
export interface AccountHost {
  /** The device's name, if the host app gave one (else the token's). */
  readonly deviceName?: string | undefined
  signOut(accountId: string, options: SignOutOptions): Promise<SignOutResult>
  deleteAccount(accountId: string): Promise<SignOutResult>
  adoptScratchPad(account: Account, workspaceId: string, options?: AdoptOptions): Promise<AdoptResult>
}

export interface AdoptOptions {
  /**
   * Seals the variable values of one scratch-pad doc in place, before anything is copied (e.g. @apisync/crypto
   * `sealAll` under the target workspace's keyring). Needed when the target workspace has encryption on: the
   * move is refused (NOT_SEALED), with nothing copied, while a value that must be sealed is in clear.
   */
  readonly seal?: (doc: SyncedDoc<CollectionModel | EnvironmentModel>) => Promise<void>
}

export interface AdoptResult {
  /** Ids of the collections and environments now in the account's workspace (the same ids as before). */
  readonly collections: readonly string[]
  readonly environments: readonly string[]
}

export class Account {
  private readonly workspaces = new Map<string, Promise<Workspace>>()
  private directoryDoc: Promise<SyncedDoc<WorkspaceDirectory>> | null = null
  private readonly endView: Subscribable<AccountEnd | null>

  /** @internal Use SyncClient.signIn / SyncClient.account. */
  constructor(
    private record: AccountRecord,
    /** @internal */ readonly space: DocSpace,
    private readonly tokens: TokenSource,
    /** Sessions of this account on the relay: list, revoke one, revoke all. */
    readonly sessions: SessionsApi,
    private readonly host: AccountHost,
  ) {
    const ended = space.ended
    this.endView = { subscribe: ended.subscribe, getSnapshot: () => ended.getSnapshot().value }
  }

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

  /**
   * Null while the account is signed in on this device. Set, in every tab at once, when it signs out, is
   * revoked (4410) or deleted, here or in another tab: `done` once its data is deleted and what the relay
   * lacked is kept as a backup (`backupId`, see SyncClient.keptBackups).
   */
  get ended(): Subscribable<AccountEnd | null> {
    return this.endView
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

  /**
   * The account's workspace directory (joined workspaces), synced to every device of the account through
   * its own space on the relay (see directory.ts).
   */
  directory(): Promise<SyncedDoc<WorkspaceDirectory>> {
    this.directoryDoc ??= (async () => this.space.open(await directoryDocName(this.id), (doc) => new WorkspaceDirectory(doc)))()
    this.directoryDoc.catch(() => (this.directoryDoc = null))
    return this.directoryDoc
  }

  /** Resolves when the relay has stored every local change of every open doc; rejects on `error`. */
  whenInSync(signal?: AbortSignal): Promise<AccountStatus> {
    return whenState(this.space.status, 'in-sync', signal)
  }

  /** Clears an error (e.g. after revoking another session to get under the device limit) and reconnects. */
  reconnect(): void {
    this.space.retry()
  }

  /** Local actions the relay has not acked, over every doc of the account (open or not), on this device. */
  async pendingChanges(): Promise<number> {
    let total = 0
    for (const n of (await this.space.pending()).values()) total += n
    return total
  }

  /**
   * A backup file of every change the relay has not acked (see backup.ts), or null if there is none. Keep it
   * before a forced sign-out; importBackup() puts the changes back (on any device).
   */
  async exportBackup(): Promise<Uint8Array | null> {
    const docs = await this.space.unackedChanges()
    return docs.length === 0 ? null : encodeBackup({ accountId: this.id, createdAt: Date.now(), docs })
  }

  /**
   * Changes made in this tab after the account ended (a change already under way when another tab signed
   * out): stored nowhere and never sent. Null if there are none; otherwise a backup file of them.
   */
  lateChanges(): Uint8Array | null {
    const docs = this.space.lateChanges()
    return docs.length === 0 ? null : encodeBackup({ accountId: this.id, createdAt: Date.now(), docs })
  }

  /**
   * Merges a backup's changes into this account's docs: they become local changes (stored here before this
   * resolves) and sync. A backup made by another account is accepted for the workspaces this account may
   * write; its account directory is skipped (it belongs to that account). Returns the doc names merged.
   */
  async importBackup(bytes: Uint8Array): Promise<string[]> {
    const backup = decodeBackup(bytes)
    const own = backup.accountId === this.id
    const ownDirectory = await directoryDocName(this.id)
    const names: string[] = []
    const plan: { name: string; update: Uint8Array; open: () => Promise<SyncedDoc> }[] = []
    for (const { name, update } of backup.docs) {
      if (name.startsWith('~')) {
        if (own && name === ownDirectory) plan.push({ name, update, open: () => this.directory() })
        continue
      }
      const address = parseDocName(name)
      if (!address) throw new SyncClientError('BAD_BACKUP', `the backup names an invalid doc ${JSON.stringify(name)}`)
      const role = this.grants[address.workspaceId]
      if (!own && role !== 'owner' && role !== 'editor')
        throw new SyncClientError('BAD_BACKUP', `the backup holds changes of workspace ${address.workspaceId}, which this account may not write`)
      plan.push({ name, update, open: async () => (await this.openWorkspace(address.workspaceId)).openDoc(address) })
    }
    for (const { name, update, open } of plan) {
      const handle = await open()
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
  adoptScratchPad(workspaceId: string, options?: AdoptOptions): Promise<AdoptResult> {
    return this.host.adoptScratchPad(this, workspaceId, options)
  }

  /**
   * Signs out of this device, in every tab at once: refuses (PendingChangesError) while the relay lacks local
   * changes unless `force`; then stops every tab's connections (nothing more is sent), ends the session on the
   * relay, keeps a backup of what the relay lacked, and deletes exactly this account's local databases.
   */
  signOut(options: SignOutOptions = {}): Promise<SignOutResult> {
    return this.host.signOut(this.id, options)
  }

  /**
   * Deletes the account on the relay (its sessions, and the workspaces it owns) and then signs out here as
   * signOut({ force: true }) does. Needs the relay.
   */
  deleteAccount(): Promise<SignOutResult> {
    return this.host.deleteAccount(this.id)
  }

  private readonly forget = (ws: Workspace): void => {
    this.workspaces.delete(ws.id)
  }

  /** @internal The token source (for the relay's account routes). */
  token(): Promise<string> {
    return this.tokens.get()
  }

  /** @internal Closes the account's docs in this tab (storing what is buffered). */
  async close(): Promise<void> {
    this.workspaces.clear()
    this.directoryDoc = null
    await this.space.close()
  }
}
