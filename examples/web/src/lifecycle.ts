/**
 * The account's life in this tab, beside app.ts: what follows the account across tabs and devices (the
 * current account, its end by sign-out, revocation or deletion, its workspace directory), backups of what the
 * relay lacked, and "done means stored" (an action reports success only once the browser stored it).
 */
import { type Account, type AccountEnd, type KeptBackup, type SyncedDoc, type WorkspaceDirectory, type Role, encodeBackup } from '@apisync/client'
import * as Y from 'yjs'
import type { App } from './app.js'
import { profiles } from './dev-auth.js'
import { downloadBytes } from './files.js'

/** How the shown account ended in this tab (another tab, or the relay, ended it). */
export interface EndedState {
  readonly accountId: string
  readonly name: string
  readonly end: AccountEnd
  /** The account instance, to ask for changes made here after the end. */
  readonly account: Account
}

/** A workspace the account can open: its grant (role) and what the directory calls it. */
export interface WorkspaceChoice {
  readonly id: string
  readonly name: string
  readonly role: Role | null
}

/** The browser refused to store an action's result: it stays in this tab until exported or stored. */
export class NotStoredError extends Error {
  override readonly name = 'NotStoredError'
  constructor(
    readonly what: string,
    override readonly cause: unknown,
  ) {
    super(`${what.charAt(0).toUpperCase()}${what.slice(1)} could not be saved in this browser (${cause instanceof Error ? cause.message : String(cause)}). It is kept in this tab only: export it now to keep it.`)
  }
}

export class Lifecycle {
  /** The account's workspace directory (joined workspaces, synced to its devices). */
  directory: SyncedDoc<WorkspaceDirectory> | null = null
  ended: EndedState | null = null
  keptBackups: readonly KeptBackup[] = []
  /** True while this tab itself signs out (it shows the sign-in screen, not "signed out elsewhere"). */
  signingOut = false
  private unsubscribe: (() => void)[] = []

  constructor(private readonly app: App) {}

  // ------------------------------------------------------------------------------------- the account

  /** The account is shown in this tab: follow its end and its directory. */
  async follow(account: Account): Promise<void> {
    for (const u of this.unsubscribe.splice(0)) u()
    this.directory = null
    this.ended = null
    const onEnd = () => {
      const end = account.ended.getSnapshot()
      if (!end || this.signingOut || this.app.account !== account) return
      this.ended = { accountId: account.id, name: this.app.profile?.name ?? account.name ?? account.id, end, account }
      if (end.done) void this.loadKeptBackups()
      this.app.invalidate()
    }
    this.unsubscribe.push(account.ended.subscribe(onEnd))
    onEnd()
    void this.loadKeptBackups()
    try {
      const dir = await account.directory()
      if (this.app.account !== account) return
      this.directory = dir
      this.unsubscribe.push(dir.model.subscribe(() => void this.followDirectory(account)))
      await this.followDirectory(account)
    } catch {
      // The directory is a convenience: without it, workspaces are joined by id as before.
    }
  }

  /**
   * The directory changed (here or on another device): workspaces joined elsewhere get a grant here (dev
   * sign-in asks for them), and grants this device had are listed for the others.
   */
  private async followDirectory(account: Account): Promise<void> {
    const dir = this.directory
    const profile = this.app.profile
    if (!dir || !profile || this.app.account !== account) return
    const listed = dir.model.getSnapshot()
    for (const [id, role] of Object.entries(profile.joined)) if (!listed.some((e) => e.id === id)) dir.model.join(id, { role })
    const missing = listed.filter((e) => e.id !== profile.personalWorkspace && !profile.joined[e.id] && e.role)
    if (missing.length === 0) {
      this.app.invalidate()
      return
    }
    const joined = { ...profile.joined }
    for (const e of missing) joined[e.id] = e.role!
    this.app.profile = profiles.update(profile.accountId, { joined })
    await this.app.client.signIn(await this.app.auth.tokenFor(this.app.profile))
    this.app.invalidate()
  }

  /** Every workspace the account may open: the personal one, the directory's, and other grants. */
  workspaces(): WorkspaceChoice[] {
    const account = this.app.account
    if (!account) return []
    const grants = account.grants
    const out = new Map<string, WorkspaceChoice>()
    const personal = this.app.profile?.personalWorkspace
    if (personal) out.set(personal, { id: personal, name: 'My workspace', role: grants[personal] ?? 'owner' })
    for (const e of this.directory?.model.getSnapshot() ?? []) out.set(e.id, { id: e.id, name: e.name, role: grants[e.id] ?? null })
    for (const [id, role] of Object.entries(grants)) if (!out.has(id)) out.set(id, { id, name: '', role })
    return [...out.values()]
  }

  /** Notes a joined workspace (and its name once known) in the directory. */
  noteJoined(id: string, role: Role, name?: string): void {
    this.directory?.model.join(id, { role, ...(name ? { name } : {}) })
  }

  // ------------------------------------------------------------------------------------------ backups

  async loadKeptBackups(): Promise<void> {
    try {
      this.keptBackups = await this.app.client.keptBackups()
    } catch {
      this.keptBackups = []
    }
    this.app.invalidate()
  }

  /** Kept backups of the shown account (offered for restore), or all of them when signed out. */
  backupsFor(accountId: string | null): readonly KeptBackup[] {
    return accountId ? this.keptBackups.filter((b) => b.accountId === accountId) : this.keptBackups
  }

  downloadKept(backup: KeptBackup): void {
    downloadBytes(`apisync-unsynced-${safe(backup.accountName ?? backup.accountId)}-${new Date(backup.createdAt).toISOString().slice(0, 19).replace(/:/g, '')}.bin`, backup.bytes)
  }

  /** Merges a backup into the shown account, stored before this resolves; it syncs from then on. */
  async restore(bytes: Uint8Array): Promise<string[]> {
    const account = this.app.account
    if (!account) throw new Error('sign in first: a backup is restored into the signed-in account')
    const names = await account.importBackup(bytes)
    // Workspaces the backup touched that this device does not list yet.
    return names
  }

  async restoreKept(backup: KeptBackup): Promise<void> {
    const names = await this.restore(backup.bytes)
    await this.app.client.discardKeptBackup(backup.id)
    await this.loadKeptBackups()
    this.app.toast(`Restored ${backup.pending} unsynced change${backup.pending === 1 ? '' : 's'} (${names.length} doc${names.length === 1 ? '' : 's'}): they sync now`)
  }

  async discardKept(backup: KeptBackup): Promise<void> {
    await this.app.client.discardKeptBackup(backup.id)
    await this.loadKeptBackups()
  }

  /** Changes made in this tab after the account ended (stored nowhere), as a backup file, or null. */
  lateChanges(): Uint8Array | null {
    return this.ended?.account.lateChanges() ?? null
  }

  // --------------------------------------------------------------------------------- done means stored

  /**
   * Resolves once every doc of the shown workspace has stored what was done to it; throws NotStoredError
   * (the person is told, and offered an export of what is only in this tab) if the browser refused.
   */
  async stored(what: string): Promise<void> {
    const view = this.app.view
    if (!view) return
    try {
      await view.whenStored()
    } catch (cause) {
      throw new NotStoredError(what, cause)
    }
  }

  /**
   * Everything the shown workspace holds in this tab, as a backup file (Import backup puts it back, here or
   * on another device): the way out when the browser refuses to store.
   */
  exportUnsaved(): void {
    const view = this.app.view
    if (!view) return
    const docs = view.openHandles().map((h) => ({ name: h.name, update: encodeState(h) }))
    const accountId = this.app.account?.id ?? 'scratch'
    downloadBytes(`apisync-unsaved-${safe(this.app.profile?.name ?? accountId)}.bin`, encodeBackup({ accountId, createdAt: Date.now(), docs }))
  }

  /** True when closing the tab would lose something: a change not stored yet, or changes made after the end. */
  unsaved(): boolean {
    if (this.lateChanges()) return true
    const s = this.app.view?.storedState()
    return s === false
  }
}

const safe = (name: string) => name.replace(/[^\w.-]+/g, '_').slice(0, 60) || 'account'

/** Every change the doc holds: applying it anywhere restores them (Yjs skips what is already there). */
const encodeState = (h: SyncedDoc): Uint8Array => Y.encodeStateAsUpdate(h.doc)
