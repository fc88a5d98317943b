/**
 * The app: which account and workspace are shown, the account's keys, what is selected, and every action a
 * person can take. Views (views/*.ts) read it and call its actions; any change schedules one re-render.
 */
import {
  type Account,
  type AccountStatus,
  type DeviceSession,
  type Role,
  type SyncClient,
  PendingChangesError,
  createSyncClient,
} from '@apisync/client'
import {
  type AccountKeys,
  type Keyring,
  type KeyringScope,
  acceptKeyChange,
  addMember,
  addVariable,
  endorseKeys,
  forgetKeyringCaches,
  generateAccountKeys,
  initWorkspaceKeys,
  maintainKeyring,
  removeMember,
  resignUnsigned,
  resolveWithValue,
  safetyCode,
  sealAll,
  setRole,
  setVariableType,
  setVariableValue,
  trustGenesis,
  unlockKeyring,
  withSigningKey,
} from '@apisync/crypto'
import { type CollectionModel, type ConflictChoice, type Json, ModelError, newRowId } from '@apisync/model'
import { DevAuth, type Profile, profiles } from './dev-auth.js'
import { ExpandedSet } from './expanded.js'
import { Lifecycle, NotStoredError, type WorkspaceChoice } from './lifecycle.js'
import { downloadText, downloadBytes } from './files.js'
import { EMPTY_KEYRING, KeyBackup, accountKeys, decodeMemberCode, encodeMemberCode, memberCodeOf, readBackup, recoverKeys, trustStore } from './keys.js'
import type { DocRef } from './workspace-view.js'
import { WorkspaceView, variableListsOf } from './workspace-view.js'

/** What this browser showed last: `scratch`, or an account id (the app opens it again on start). */
const LAST_SHOWN = 'apisync-web:last'

export type Selection =
  | { readonly kind: 'welcome' }
  | { readonly kind: 'collection'; readonly collectionId: string }
  | { readonly kind: 'folder' | 'request'; readonly collectionId: string; readonly id: string }
  | { readonly kind: 'runs'; readonly collectionId: string }
  /** A collection's Trash; `id`: the deleted item opened (read-only). */
  | { readonly kind: 'trash'; readonly collectionId: string; readonly id?: string }
  /** The History panel of a collection, or (`id`) of one of its requests or folders. */
  | { readonly kind: 'history'; readonly collectionId: string; readonly id?: string }
  | { readonly kind: 'activity' }
  | { readonly kind: 'environment'; readonly id: string }
  | { readonly kind: 'globals' }
  | { readonly kind: 'presets' }
  | { readonly kind: 'sessions' }
  | { readonly kind: 'keys' }
  | { readonly kind: 'members' }

/**
 * Where this device stands with the workspace's sealed values:
 * `local` (scratch pad: values stay on this device, unsealed), `waiting` (the manifest has not synced yet),
 * `ready`, `no-key` (the account's key is on another device: recover it), `not-member` (no data key was
 * wrapped for this account: an admin adds it), `pending` (a member, waiting for an admin to share or start
 * the current key generation), `unverified` (the workspace's records are unsigned, or its genesis is in doubt).
 */
export type KeyState = 'local' | 'waiting' | 'ready' | 'no-key' | 'not-member' | 'pending' | 'unverified'

export interface DialogField {
  readonly name: string
  readonly label: string
  readonly value?: string
  readonly type?: 'text' | 'password' | 'select' | 'textarea' | 'file' | 'checkbox'
  readonly options?: readonly { readonly value: string; readonly label: string }[]
  readonly placeholder?: string
  readonly hint?: string
}

export interface Dialog {
  readonly title: string
  readonly body?: string
  readonly fields: readonly DialogField[]
  readonly submit: string
  readonly danger?: boolean
  readonly cancel?: string
  /** Return a string to show as an error and keep the dialog open. */
  readonly onSubmit: (values: Record<string, string>, files: Record<string, File | undefined>) => Promise<string | void> | string | void
}

export interface MenuItem {
  readonly label: string
  readonly action: () => void
  readonly danger?: boolean
  readonly disabled?: boolean
}

export interface StatusEvent {
  readonly state: AccountStatus['state']
  readonly pending: number
  readonly at: number
}

export type RequestTab = 'params' | 'headers' | 'body' | 'auth' | 'scripts' | 'examples' | 'docs'
export type CollectionTab = 'overview' | 'variables' | 'auth' | 'scripts'

export interface UiState {
  expanded: ExpandedSet
  /** The tree's scroll position and height (see views/tree-virtual.ts). */
  treeScroll: number
  treeViewport: number
  renaming: string | null
  menu: { readonly x: number; readonly y: number; readonly items: readonly MenuItem[] } | null
  dialog: (Dialog & { error?: string; busy?: boolean }) | null
  toast: { readonly text: string; readonly kind: 'info' | 'error'; readonly id: number } | null
  requestTab: RequestTab
  collectionTab: CollectionTab
  conflictsOpen: boolean
  statusOpen: boolean
  accountMenuOpen: boolean
  revealed: Set<string>
  sessions: readonly DeviceSession[] | null
  sessionsError: string | null
  dragging: { readonly collectionId: string; readonly id: string } | null
  openRun: string | null
  /** The person chose to work offline despite the device limit. */
  deviceLimitDismissed: boolean
  /** The description being edited (its owner id); others show rendered. */
  editingDescription: string | null
}

export class App {
  readonly client: SyncClient
  readonly auth: DevAuth
  readonly backup: KeyBackup
  account: Account | null = null
  profile: Profile | null = null
  view: WorkspaceView | null = null
  selection: Selection = { kind: 'welcome' }
  keyState: KeyState = 'waiting'
  /** A key generated on this device that has no recovery backup yet. */
  needsRecoverySetup = false
  /** The safety code of this account's keys on this device (Members & keys). */
  mySafetyCode: string | null = null
  status: AccountStatus | null = null
  readonly statusHistory: StatusEvent[] = []
  /** Collections and environments the scratch pad holds while signed in (offered for adoption). */
  scratchItems = 0
  signingIn = false
  booted = false
  readonly ui: UiState = {
    expanded: new ExpandedSet(),
    treeScroll: 0,
    treeViewport: 0,
    renaming: null,
    menu: null,
    dialog: null,
    toast: null,
    requestTab: 'params',
    collectionTab: 'overview',
    conflictsOpen: true,
    statusOpen: false,
    accountMenuOpen: false,
    revealed: new Set(),
    sessions: null,
    sessionsError: null,
    dragging: null,
    openRun: null,
    deviceLimitDismissed: false,
    editingDescription: null,
  }
  private unsubscribeAccount: (() => void) | null = null
  private loadingLimitSessions = false
  private readonly views = new Map<string, WorkspaceView>()
  private renderScheduled = false
  private toastTimer: ReturnType<typeof setTimeout> | undefined

  constructor(
    readonly relayUrl: string,
    private readonly render: () => void,
  ) {
    this.auth = new DevAuth(relayUrl, (id) => accountKeys.get(id)?.signing?.publicJwk)
    this.backup = new KeyBackup(relayUrl, (id) => this.auth.token(id))
    // Keystrokes in one field are one pending action: leaving the field ends it (main.ts), so the window only has
    // to outlast a pause in typing (10 s: a busy machine can stall a keystroke for seconds).
    // Refused by the device limit, it tries again every 10 s (a local relay: cheap), so it syncs soon after another device left.
    this.client = createSyncClient({ relayUrl, getToken: this.auth.getToken, backoff: { initialMs: 250, maxMs: 3_000 }, actionWindowMs: 10_000, deviceLimitRetryMs: 10_000 })
    this.client.subscribe(() => {
      this.followCurrent()
      this.invalidate()
    })
  }

  readonly life = new Lifecycle(this)
  /** Set while this tab itself changes the current account (its own change is not news to it). */
  private switching = 0

  /** Another tab signed in or switched accounts: this tab shows the same account (one per device). */
  private followCurrent(): void {
    const { loaded, currentAccountId } = this.client.getSnapshot()
    if (!loaded || !this.booted || this.switching > 0 || this.life.ended || this.life.signingOut) return
    if (currentAccountId === (this.account?.id ?? null) || currentAccountId === null) return
    if (!profiles.get(currentAccountId)) return
    this.act(async () => {
      if (this.account?.id === currentAccountId) return
      this.switching++
      try {
        await this.enterAccount(await this.client.account(currentAccountId))
      } finally {
        this.switching--
      }
    })
  }

  /** The workspaces the shown account can open (see Lifecycle.workspaces). */
  workspaceList(): WorkspaceChoice[] {
    return this.life.workspaces()
  }

  /** Schedules one render for everything that changed in this frame. */
  readonly invalidate = (): void => {
    if (this.renderScheduled) return
    this.renderScheduled = true
    requestAnimationFrame(() => {
      this.renderScheduled = false
      this.render()
    })
  }

  async boot(): Promise<void> {
    const current = await this.client.current()
    // The last thing shown: the current account, or the scratch pad if that is what was open.
    if (localStorage.getItem(LAST_SHOWN) === 'scratch') await this.openScratchPad()
    else if (current && profiles.get(current.id)) await this.enterAccount(current)
    else void this.life.loadKeptBackups()
    this.booted = true
    this.invalidate()
  }

  // ------------------------------------------------------------------------------------- feedback

  toast(text: string, kind: 'info' | 'error' = 'info'): void {
    this.ui.toast = { text, kind, id: Date.now() }
    clearTimeout(this.toastTimer)
    this.toastTimer = setTimeout(() => {
      this.ui.toast = null
      this.invalidate()
    }, kind === 'error' ? 8_000 : 4_000)
    this.invalidate()
  }

  /** Runs an action; what it throws becomes a toast instead of an unhandled rejection. */
  act(action: () => unknown): void {
    try {
      const result = action()
      if (result instanceof Promise) result.catch((e: unknown) => this.fail(e)).finally(this.invalidate)
    } catch (e) {
      this.fail(e)
    }
    this.invalidate()
  }

  /**
   * "Done" means stored: says `message` once every doc of the workspace stored what was done; if the browser
   * refused, says so instead (no success message) and offers to export what is only in this tab.
   */
  async done(what: string, message: string): Promise<void> {
    await this.life.stored(what)
    this.toast(message)
  }

  /** The browser refused to store: a dialog that says so and offers the export (the data is still here). */
  notStored(e: NotStoredError): void {
    this.openDialog({
      title: 'Not saved in this browser',
      body: e.message,
      fields: [],
      submit: 'Export unsaved changes',
      cancel: 'Close',
      danger: true,
      onSubmit: () => {
        this.life.exportUnsaved()
        return 'Exported: “Import backup” (account menu) puts it back once the browser stores again.'
      },
    })
  }

  private fail(e: unknown): void {
    if (e instanceof NotStoredError) return this.notStored(e)
    console.error(e)
    const message = e instanceof ModelError ? e.message : e instanceof Error ? e.message : String(e)
    this.toast(message, 'error')
  }

  openDialog(dialog: Dialog): void {
    this.ui.dialog = dialog
    this.ui.menu = null
    this.invalidate()
  }

  async submitDialog(values: Record<string, string>, files: Record<string, File | undefined>): Promise<void> {
    const dialog = this.ui.dialog
    if (!dialog || dialog.busy) return
    this.ui.dialog = { ...dialog, busy: true }
    this.invalidate()
    try {
      const error = await dialog.onSubmit(values, files)
      if (this.ui.dialog?.title !== dialog.title) return // the action opened another dialog
      this.ui.dialog = error ? { ...dialog, error, busy: false } : null
    } catch (e) {
      if (e instanceof NotStoredError) this.notStored(e)
      else this.ui.dialog = { ...dialog, busy: false, error: e instanceof Error ? e.message : String(e) }
    }
    this.invalidate()
  }

  openMenu(event: MouseEvent, items: readonly MenuItem[]): void {
    event.preventDefault()
    event.stopPropagation()
    const target = event.currentTarget as HTMLElement | null
    const rect = target?.getBoundingClientRect()
    this.ui.menu = { x: rect ? rect.left : event.clientX, y: rect ? rect.bottom + 2 : event.clientY, items }
    this.invalidate()
  }

  setExpanded(id: string, open: boolean): void {
    if (open) this.ui.expanded.add(id)
    else this.ui.expanded.delete(id)
    this.invalidate()
  }

  private savedExpanded = -1
  /** Keeps what is expanded per workspace (a reload shows the tree as it was). Called after each render. */
  persistUi(): void {
    const view = this.view
    if (!view || this.ui.expanded.version === this.savedExpanded) return
    this.savedExpanded = this.ui.expanded.version
    try {
      localStorage.setItem(`apisync-web:expanded:${view.id}`, JSON.stringify([...this.ui.expanded]))
    } catch {
      // Storage full or refused: only the tree's shape is lost.
    }
  }

  private restoreExpanded(workspaceId: string): void {
    this.ui.expanded.clear()
    try {
      const ids: unknown = JSON.parse(localStorage.getItem(`apisync-web:expanded:${workspaceId}`) ?? '[]')
      if (Array.isArray(ids)) for (const id of ids) if (typeof id === 'string') this.ui.expanded.add(id)
    } catch {
      // A malformed entry: start collapsed.
    }
    this.savedExpanded = this.ui.expanded.version
    this.ui.treeScroll = 0
  }

  /** Expands a collection and every folder in it. */
  expandAll(collectionId: string): void {
    const snap = this.collection(collectionId)?.snapshot()
    this.ui.expanded.add(collectionId)
    const walk = (items: readonly import('@apisync/model').ItemSnapshot[]) => {
      for (const item of items)
        if (item.kind === 'folder') {
          this.ui.expanded.add(item.id)
          walk(item.items)
        }
    }
    if (snap) walk(snap.items)
    this.invalidate()
  }

  collapseAll(collectionId: string): void {
    const snap = this.collection(collectionId)?.snapshot()
    const walk = (items: readonly import('@apisync/model').ItemSnapshot[]) => {
      for (const item of items)
        if (item.kind === 'folder') {
          this.ui.expanded.delete(item.id)
          walk(item.items)
        }
    }
    if (snap) walk(snap.items)
    this.invalidate()
  }

  private sessionsTimer: ReturnType<typeof setInterval> | undefined

  select(selection: Selection): void {
    this.selection = selection
    this.ui.menu = null
    clearInterval(this.sessionsTimer)
    if (selection.kind === 'sessions') {
      // The list changes elsewhere (a device connects, another revokes one): keep it fresh while shown.
      this.act(() => this.loadSessions())
      this.sessionsTimer = setInterval(() => {
        if (this.selection.kind === 'sessions' && document.visibilityState === 'visible') void this.loadSessions()
      }, 4_000)
    }
    this.invalidate()
  }

  // ------------------------------------------------------------------------------------- accounts

  /** Dev sign-in: a name and a device; the account becomes current. */
  async signIn(name: string, device: string): Promise<void> {
    this.signingIn = true
    this.switching++
    try {
      const { token } = await this.auth.signIn(name.trim(), device.trim())
      const account = await this.client.signIn(token)
      await this.enterAccount(account)
    } finally {
      this.signingIn = false
      this.switching--
    }
  }

  async switchAccount(id: string): Promise<void> {
    this.switching++
    try {
      const account = await this.client.switchAccount(id)
      await this.enterAccount(account)
    } finally {
      this.switching--
    }
  }

  private async enterAccount(account: Account): Promise<void> {
    localStorage.setItem(LAST_SHOWN, account.id)
    this.unsubscribeAccount?.()
    for (const v of this.views.values()) v.close()
    this.views.clear()
    if (this.view?.local) this.view.close()
    this.account = account
    this.profile = profiles.get(account.id)
    this.view = null
    this.selection = { kind: 'welcome' }
    this.ui.sessions = null
    this.needsRecoverySetup = !!accountKeys.get(account.id) && !accountKeys.backedUp(account.id)
    this.statusHistory.length = 0
    const onStatus = () => {
      const s = account.status.getSnapshot()
      const last = this.statusHistory[this.statusHistory.length - 1]
      if (!last || last.state !== s.state) {
        this.statusHistory.push({ state: s.state, pending: s.pending, at: Date.now() })
        if (this.statusHistory.length > 30) this.statusHistory.shift()
      }
      this.status = s
      // Refused by the device limit: list the sessions that may be signed out.
      if (s.error?.reason === 'device-limit' && !this.ui.sessions && !this.loadingLimitSessions) {
        this.loadingLimitSessions = true
        void this.loadSessions().finally(() => (this.loadingLimitSessions = false))
      }
      this.invalidate()
    }
    this.ui.deviceLimitDismissed = false
    this.unsubscribeAccount = account.status.subscribe(onStatus)
    onStatus()
    void this.life.follow(account)
    const target = this.profile?.lastWorkspace && account.grants[this.profile.lastWorkspace] ? this.profile.lastWorkspace : this.profile?.personalWorkspace
    if (target) await this.openWorkspace(target)
    void this.countScratch()
  }

  /** Opens one of the account's workspaces (or the scratch pad, when there is no account). */
  async openWorkspace(id: string): Promise<void> {
    const account = this.account
    if (!account) return
    let view = this.views.get(id)
    if (!view) {
      const ws = await account.openWorkspace(id)
      const created: WorkspaceView = new WorkspaceView(ws, false, this.invalidate, () => this.act(() => this.setUpWorkspace(created)))
      view = created
      this.views.set(id, view)
    }
    this.view = view
    this.selection = { kind: 'welcome' }
    this.restoreExpanded(id)
    if (this.profile) this.profile = profiles.update(this.profile.accountId, { lastWorkspace: id })
    await this.refreshKeys()
    this.invalidate()
  }

  /** The scratch pad: a local-only workspace, no account needed. */
  async openScratchPad(): Promise<void> {
    localStorage.setItem(LAST_SHOWN, 'scratch')
    this.life.ended = null
    this.unsubscribeAccount?.()
    this.account = null
    this.profile = null
    this.status = null
    const ws = await this.client.scratchPad()
    this.view = new WorkspaceView(ws, true, this.invalidate, () => {})
    this.keyState = 'local'
    this.view.setKeyring(EMPTY_KEYRING)
    this.selection = { kind: 'welcome' }
    this.invalidate()
  }

  /** After the manifest first synced: name a new personal workspace, make or unlock keys. */
  private async setUpWorkspace(view: WorkspaceView): Promise<void> {
    const profile = this.profile
    const m = view.manifest
    if (profile && view.id === profile.personalWorkspace && view.workspace.role === 'owner' && m.snapshot().name === '' && !m.openError)
      m.update({ name: `${profile.name}'s workspace` })
    if (view === this.view) await this.refreshKeys()
  }

  /** The keyring scope of a workspace for the signed-in account, with this device's keys and pins. */
  keyScope(view: WorkspaceView | null = this.view, keys: AccountKeys | null = this.account && accountKeys.get(this.account.id)): KeyringScope | null {
    const account = this.account
    if (!view || view.local || !account || !keys) return null
    const token = this.auth.knownEndorsementToken(account.id)
    return {
      manifest: view.manifest,
      workspaceId: view.id,
      me: { accountId: account.id, name: this.profile?.name ?? '', keys },
      trust: trustStore(account.id),
      ...(token ? { token } : {}),
    }
  }

  /**
   * Works out the key state of the shown workspace (see KeyState): generates the account's keys on first use
   * (and a signing key for keys from before signing), makes the keyring of a new workspace, re-signs an
   * owner's unsigned one, and runs the keyring's maintenance (key shares, rotations) where this device may.
   */
  async refreshKeys(): Promise<void> {
    const view = this.view
    const account = this.account
    if (!view || !account || view.local) return
    let keys = accountKeys.get(account.id)
    if (keys && !keys.signing) {
      // Keys from before signed records: the account gets its signing key here. Its workspaces see it as a key
      // change (an admin endorses it); the recovery backup needs setting again to hold it.
      keys = (await withSigningKey(keys)).keys
      accountKeys.put(account.id, keys)
      this.needsRecoverySetup = true
    }
    const snap = view.manifest.snapshot()
    const empty = snap.members.length === 0 && snap.keyWraps.length === 0
    const mayCreate = !view.readOnly && view.manifestSynced && (view.workspace.role === 'owner' || view.id === this.profile?.personalWorkspace)
    if (!keys && empty && mayCreate && view.id === this.profile?.personalWorkspace) {
      keys = await generateAccountKeys()
      accountKeys.put(account.id, keys)
      this.needsRecoverySetup = true
    }
    let ring: Keyring = EMPTY_KEYRING
    let state: KeyState
    this.mySafetyCode = keys ? await safetyCode(keys) : null
    // A token asked for with this device's key: its `cnf` (the key the relay has for the account) is checked.
    if (keys) await this.auth.endorsementToken(account.id)
    const scope = this.keyScope(view, keys)
    if (!scope) state = !view.manifestSynced && empty ? 'waiting' : 'no-key'
    else {
      ring = await unlockKeyring(scope)
      if (ring.status === 'empty' && mayCreate) ring = await initWorkspaceKeys(scope)
      else if (ring.status === 'unsigned' && !view.readOnly && view.workspace.role === 'owner' && onlyMember(snap, account.id))
        ring = await resignUnsigned(scope)
      else if (ring.status === 'verified' && !view.readOnly) ring = (await maintainKeyring(scope)).ring
      // A workspace with a keyring seals its values: its docs refuse clear ones from now on, whatever arrives.
      if (ring.status !== 'empty') view.workspace.requireSealedValues()
      if (ring.current) state = 'ready'
      else if (ring.status === 'empty') state = view.manifestSynced ? 'not-member' : 'waiting'
      else if (ring.status !== 'verified') state = 'unverified'
      else if (ring.notices.some((n) => n.code === 'YOUR_KEYS_DIFFER')) state = 'no-key'
      else state = ring.role ? 'pending' : 'not-member'
    }
    if (view !== this.view) return
    this.keyState = state
    view.setKeyring(ring)
    this.watchKeyring(view)
    this.invalidate()
  }

  private readonly watchedKeyrings = new WeakSet<WorkspaceView>()
  /** New keyring records (an admin added this account, a key changed) are read at once. */
  private watchKeyring(view: WorkspaceView): void {
    if (this.watchedKeyrings.has(view)) return
    this.watchedKeyrings.add(view)
    const count = () => {
      const m = view.manifest.snapshot()
      return m.members.length + m.keyWraps.length
    }
    let last = count()
    view.manifest.subscribe(() => {
      const next = count()
      if (next !== last && view === this.view) {
        last = next
        this.act(() => this.refreshKeys())
      }
    })
  }

  memberCode(): string | null {
    const account = this.account
    const keys = account && accountKeys.get(account.id)
    return keys && account ? encodeMemberCode(memberCodeOf(account.id, this.profile?.name ?? '', keys)) : null
  }

  private requireScope(): KeyringScope {
    const scope = this.keyScope(this.requireWritable())
    if (!scope) throw new Error('this device has no key for your account')
    return scope
  }

  /** Admins: lets another account read the workspace's sealed values (their member code). */
  async addMember(code: string, role: 'admin' | 'member' = 'member'): Promise<void> {
    const member = decodeMemberCode(code)
    this.view!.setKeyring(await addMember(this.requireScope(), { accountId: member.accountId, name: member.name, keys: member.keys }, role))
    await this.done('the new member', `${member.name || 'The member'} can now read this workspace's values`)
  }

  /** Admins: removes a member; values written from now on are sealed with a key they do not hold. */
  async removeMember(accountId: string): Promise<void> {
    this.view!.setKeyring(await removeMember(this.requireScope(), accountId))
    await this.refreshKeys()
  }

  async setMemberRole(accountId: string, role: 'admin' | 'member'): Promise<void> {
    this.view!.setKeyring(await setRole(this.requireScope(), accountId, role))
    await this.refreshKeys()
  }

  /** After comparing safety codes with the member: their new keys are trusted on this device. */
  async acceptKeyChange(accountId: string): Promise<void> {
    const scope = this.keyScope()
    if (!scope) return
    this.view!.setKeyring(await acceptKeyChange(scope, accountId))
    await this.refreshKeys() // now this device shares the current key with them, if it may
  }

  /** Admins: endorses the keys a member announced (after comparing their safety code). */
  async endorseKeys(accountId: string): Promise<void> {
    this.view!.setKeyring(await endorseKeys(this.requireScope(), accountId))
    await this.refreshKeys()
  }

  /** Several genesis records: trusts the one whose safety code the owner read out. */
  async trustGenesis(ownerSafetyCode: string): Promise<void> {
    const scope = this.keyScope()
    if (!scope) return
    await trustGenesis(scope, ownerSafetyCode)
    await this.refreshKeys()
  }

  /** The owner: re-signs the members of a workspace from before signing (the ones the owner ticked). */
  async resignMembers(accountIds: readonly string[]): Promise<void> {
    this.view!.setKeyring(await resignUnsigned(this.requireScope(), { members: accountIds }))
    await this.refreshKeys()
  }

  /** Sets the recovery passphrase: the key, locked with it, goes to the relay (or a file where it cannot). */
  async saveRecovery(passphrase: string): Promise<void> {
    const account = this.account
    const keys = account && accountKeys.get(account.id)
    if (!account || !keys) throw new Error('no key on this device to back up')
    const { backup, stored } = await this.backup.save(account.id, keys, passphrase)
    if (stored) {
      accountKeys.noteBackup(account.id, 'relay')
      this.toast('Recovery is set: your other devices can open values with the passphrase')
    } else {
      downloadText(`apisync-key-${this.profile?.name ?? account.id}.json`, JSON.stringify({ backup }, null, 2), 'application/json')
      accountKeys.noteBackup(account.id, 'file')
      this.toast('The relay does not keep key backups yet: the locked key was downloaded as a file. Keep it safe.')
    }
    this.needsRecoverySetup = false
  }

  /** A new device: the account's key from its backup (the relay's, or a file) and the passphrase. */
  async recover(passphrase: string, file: File | undefined): Promise<string | void> {
    const account = this.account
    if (!account) return
    const backup = file ? readBackup(await file.text()) : await this.backup.load(account.id)
    if (!backup) return file ? 'that file is not a key backup' : 'no key backup on the relay: choose the backup file'
    let keys
    try {
      keys = await recoverKeys(backup, passphrase)
    } catch (e) {
      return e instanceof Error ? e.message : String(e)
    }
    // A backup from before signed records holds no signing key: make one, and lock it into a new backup now.
    const upgraded = await withSigningKey(keys)
    accountKeys.put(account.id, upgraded.keys)
    accountKeys.noteBackup(account.id, file ? 'file' : 'relay')
    this.needsRecoverySetup = false
    if (upgraded.created) await this.saveRecovery(passphrase).catch(() => (this.needsRecoverySetup = true))
    await this.refreshKeys()
    this.toast('Your key is on this device: values are readable')
  }

  /** Joins another account's workspace (dev auth grants the role asked for). */
  async joinWorkspace(id: string, role: Role): Promise<void> {
    const profile = this.profile
    if (!profile) return
    const trimmed = id.trim()
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(trimmed)) throw new Error('a workspace id is letters, digits, - and _')
    this.profile = profiles.update(profile.accountId, { joined: { ...profile.joined, [trimmed]: role } })
    await this.client.signIn(await this.auth.tokenFor(this.profile))
    // Listed in the account's directory: the account's other devices get it too.
    this.life.noteJoined(trimmed, role)
    await this.openWorkspace(trimmed)
  }

  /**
   * Signs out of this device, in every tab. With changes the relay lacks, asks first; then the backup of them
   * is downloaded (and kept in this browser until restored), and the relay ends the session.
   */
  async signOut(forgetKey = false, confirmed = false): Promise<void> {
    const account = this.account
    if (!account) return
    const pending = await account.pendingChanges()
    if (pending > 0 && !confirmed) {
      this.openDialog({
        title: 'Changes not synced yet',
        body: `${pending} change${pending === 1 ? ' is' : 's are'} not on the relay yet. Signing out deletes this account’s data from this browser: a backup file of ${pending === 1 ? 'it' : 'them'} is downloaded (and kept in this browser), and “Import backup” in the account menu puts ${pending === 1 ? 'it' : 'them'} back after you sign in again, here or on another device.`,
        fields: [],
        submit: 'Download backup and sign out',
        danger: true,
        onSubmit: () => this.signOut(forgetKey, true),
      })
      return
    }
    this.life.signingOut = true
    let result
    try {
      result = await account.signOut({ force: true })
    } finally {
      this.life.signingOut = false
    }
    if (result.backup) downloadBytes(`apisync-unsynced-${this.profile?.name ?? account.id}.bin`, result.backup)
    if (!result.sessionEnded) this.toast('Signed out here, but the relay could not be reached: the session stays listed on your other devices until it expires or you revoke it there.', 'error')
    if (forgetKey) accountKeys.forget(account.id)
    forgetKeyringCaches()
    profiles.remove(account.id)
    this.leaveAccount()
    const next = this.client.getSnapshot().accounts[0]
    if (next && profiles.get(next.id)) await this.switchAccount(next.id)
    await this.life.loadKeptBackups()
    this.invalidate()
  }

  /** Forgets the shown account in this tab (after a sign-out here or elsewhere). */
  leaveAccount(): void {
    this.unsubscribeAccount?.()
    for (const v of this.views.values()) v.close()
    this.views.clear()
    this.account = null
    this.profile = null
    this.view = null
    this.status = null
    this.life.ended = null
    this.selection = { kind: 'welcome' }
    localStorage.removeItem(LAST_SHOWN)
  }

  /** Deletes the account on the relay (its sessions and personal workspaces) and signs out here. */
  async deleteAccount(): Promise<void> {
    const account = this.account
    if (!account) return
    this.life.signingOut = true
    let result
    try {
      result = await account.deleteAccount()
    } finally {
      this.life.signingOut = false
    }
    if (result.backup) downloadBytes(`apisync-unsynced-${this.profile?.name ?? account.id}.bin`, result.backup)
    accountKeys.forget(account.id)
    profiles.remove(account.id)
    this.leaveAccount()
    await this.life.loadKeptBackups()
    this.toast('The account is deleted')
  }

  /** Restores a backup file (`.bin`: from a sign-out, a revocation, or an export) into the shown account. */
  async importBackupFile(file: File): Promise<void> {
    const bytes = new Uint8Array(await file.arrayBuffer())
    const names = await this.life.restore(bytes)
    this.toast(`Restored ${names.length} doc${names.length === 1 ? '' : 's'} from ${file.name}: stored here, syncing now`)
  }

  /** This account's sessions on the relay. */
  async loadSessions(): Promise<void> {
    const account = this.account
    if (!account) return
    try {
      this.ui.sessions = await account.sessions.list()
      this.ui.sessionsError = null
    } catch (e) {
      this.ui.sessionsError = e instanceof Error ? e.message : String(e)
    }
    this.invalidate()
  }

  async revokeSession(sid: string): Promise<void> {
    await this.account?.sessions.revoke(sid)
    // Under the device limit again: this device may connect now.
    if (this.status?.error?.reason === 'device-limit') this.account?.reconnect()
    await this.loadSessions()
  }

  async revokeOtherSessions(): Promise<void> {
    await this.account?.sessions.revokeAll()
    await this.loadSessions()
  }

  /** After this device was signed out (remotely, or in another tab): sign in again, as the same person. */
  async signInAgain(): Promise<void> {
    const ended = this.life.ended
    const profile = ended ? profiles.get(ended.accountId) : this.profile
    this.leaveAccount()
    if (!profile) {
      this.invalidate()
      return
    }
    await this.signIn(profile.name, profile.device)
  }

  // ---------------------------------------------------------------------------------- scratch pad

  private async countScratch(): Promise<void> {
    const scratch = await this.client.scratchPad()
    const m = scratch.manifest.model.snapshot()
    this.scratchItems = m.collections.length + m.environments.length
    this.invalidate()
  }

  /**
   * Moves the scratch pad into the shown workspace. Every value that must be sealed (environments, globals,
   * secret collection and folder variables) is sealed in the scratch docs first, under the workspace's data key
   * and for the same doc and row ids they keep after the move; the client checks it and refuses the move
   * otherwise. Nothing readable reaches the relay (Yjs drops the overwritten clear values from the doc's state).
   */
  async adoptScratchPad(): Promise<void> {
    const view = this.requireWritable()
    const account = this.account!
    const ring = this.requireRing()
    const result = await account.adoptScratchPad(view.id, {
      seal: async (doc) => {
        for (const list of variableListsOf(doc.model)) await sealAll(list, ring)
      },
    })
    this.scratchItems = 0
    await this.done('the moved collections', `Moved ${result.collections.length} collection(s) and ${result.environments.length} environment(s) into ${view.manifest.snapshot().name || 'this workspace'}`)
  }

  // --------------------------------------------------------------------------------- writing guards

  requireWritable(): WorkspaceView {
    const view = this.view
    if (!view) throw new Error('no workspace open')
    if (view.readOnly) throw new Error('you can view this workspace but not edit it')
    return view
  }

  collection(id: string): CollectionModel | null {
    return this.view?.collections.get(id)?.model ?? null
  }

  /** An edit of a collection, refused for viewers. */
  edit(collectionId: string, fn: (model: CollectionModel) => void): void {
    this.act(() => {
      this.requireWritable()
      const model = this.collection(collectionId)
      if (model) fn(model)
    })
  }

  // ------------------------------------------------------------------------------------- variables

  /** Writes a variable's shared value: sealed where the list seals it (never in the scratch pad). */
  async setSharedValue(doc: DocRef, rowId: string, value: Json): Promise<void> {
    const view = this.requireWritable()
    const list = view.variableList(doc)
    if (!list) return
    const v = list.variables().find((x) => x.id === rowId)
    if (!v) return
    if (view.local || !list.sealed(v.type)) list.update(rowId, { value })
    else {
      // Sealing is async: typed fast, keystrokes must not land out of order (the last value wins).
      const ring = this.requireRing()
      await this.latestWins(`${view.id}/${rowId}`, value, (next) => setVariableValue(list, ring, rowId, next))
    }
  }

  private readonly serial = new Map<string, { next: { value: Json } | null; done: Promise<void> }>()
  /** Runs `write` for `value`, one at a time per key; values given meanwhile collapse into the last. */
  private latestWins(key: string, value: Json, write: (value: Json) => Promise<void>): Promise<void> {
    const running = this.serial.get(key)
    if (running) {
      running.next = { value }
      return running.done
    }
    const slot: { next: { value: Json } | null; done: Promise<void> } = { next: null, done: Promise.resolve() }
    this.serial.set(key, slot)
    slot.done = (async () => {
      try {
        for (let v: Json = value; ; ) {
          await write(v)
          if (!slot.next) break
          v = slot.next.value
          slot.next = null
        }
      } finally {
        this.serial.delete(key)
      }
    })()
    return slot.done
  }

  async addVariable(doc: DocRef, row: { key: string; value: string; type?: string }): Promise<void> {
    const view = this.requireWritable()
    const list = view.variableList(doc)
    if (!list) return
    if (view.local || !list.sealed(row.type ?? 'default')) list.add({ id: newRowId(), ...row })
    else await addVariable(list, this.requireRing(), row)
  }

  /** Changing the type can change whether the value is sealed (collection variables: `secret`): one write. */
  async setVariableType(doc: DocRef, rowId: string, type: string): Promise<void> {
    const view = this.requireWritable()
    const list = view.variableList(doc)
    if (!list) return
    if (view.local) list.update(rowId, { type })
    else await setVariableType(list, this.requireRing(), rowId, type)
  }

  requireRing(): Keyring {
    const ring = this.view?.ring
    if (!ring?.current) {
      throw new Error(
        this.keyState === 'no-key'
          ? "this device doesn't have your account key yet: recover it (Keys & recovery) to write values"
          : this.keyState === 'unverified'
            ? "this workspace's keys are not verified (see Members): nothing new is sealed until they are"
            : this.keyState === 'pending'
              ? 'an admin has to share the current key with you first (it happens when one opens the workspace)'
              : 'no data key of this workspace for your account: ask an admin to add you',
      )
    }
    return ring
  }

  // ------------------------------------------------------------------------------------- conflicts

  async resolveConflict(doc: DocRef, conflictId: string, choice: ConflictChoice | { readonly clear: Json }): Promise<void> {
    const view = this.requireWritable()
    const handle = view.handle(doc)
    if (!handle) return
    if (typeof choice === 'object' && 'clear' in choice) {
      const list = view.variableList(doc)
      const conflict = handle.model.conflicts().find((c) => c.id === conflictId)
      if (list && conflict && conflict.field === 'value' && !view.local) await resolveWithValue(list, this.requireRing(), conflict, choice.clear)
      else handle.model.resolve(conflictId, { value: choice.clear })
      return
    }
    handle.model.resolve(conflictId, choice)
  }
}

/** Whether the account is the only member an unsigned keyring lists (then re-signing needs no review). */
const onlyMember = (m: { members: readonly { accountId: string }[] }, accountId: string) => m.members.every((x) => x.accountId === accountId)
