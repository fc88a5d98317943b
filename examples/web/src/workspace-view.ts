/**
 * One workspace as the app shows it: the manifest, every collection and environment it lists, the globals and
 * run results, opened and followed; the variables' shared values opened with the workspace keyring; and the
 * open conflicts of all of them in one list.
 */
import type { LocalValues, SyncedDoc, Workspace } from '@apisync/client'
import {
  type Keyring,
  type OpenConflict,
  type VariableList,
  collectionVariables,
  environmentVariables,
  openConflict,
  readVariables,
} from '@apisync/crypto'
import type { CollectionModel, Conflict, EnvironmentModel, GlobalsModel, ItemSnapshot, Json, RunsModel, WorkspaceModel } from '@apisync/model'
import { EMPTY_KEYRING } from './keys.js'

/** Every variable list of a doc: an environment's, or a collection's own and each of its folders'. */
export const variableListsOf = (model: CollectionModel | EnvironmentModel): VariableList[] => {
  if (model.kind !== 'collection') return [environmentVariables(model as EnvironmentModel)]
  const col = model as CollectionModel
  const lists = [collectionVariables(col)]
  const walk = (items: readonly ItemSnapshot[]) => {
    for (const item of items)
      if (item.kind === 'folder') {
        if (item.variables.length) lists.push(collectionVariables(col, item.id))
        walk(item.items)
      }
  }
  walk(col.snapshot().items)
  return lists
}

export type DocRef =
  | { readonly kind: 'manifest' }
  | { readonly kind: 'globals' }
  | { readonly kind: 'collection'; readonly id: string }
  | { readonly kind: 'environment'; readonly id: string }

/** A variable's shared value as this device reads it. */
export interface OpenedValue {
  readonly value: Json
  readonly state: 'open' | 'locked' | 'tampered'
}

export interface ConflictEntry {
  readonly doc: DocRef
  readonly docName: string
  readonly conflict: Conflict
  /** For sealed variable values: the alternatives opened. */
  readonly opened?: OpenConflict
}

type AnyModel = CollectionModel | EnvironmentModel | WorkspaceModel

export class WorkspaceView {
  readonly collections = new Map<string, SyncedDoc<CollectionModel>>()
  readonly environments = new Map<string, SyncedDoc<EnvironmentModel>>()
  readonly runs = new Map<string, SyncedDoc<RunsModel>>()
  globals: SyncedDoc<GlobalsModel> | null = null
  /** Local values (this device only) by doc name. */
  readonly locals = new Map<string, LocalValues>()
  /** Opened shared values by doc name, then variable row id. */
  readonly opened = new Map<string, ReadonlyMap<string, OpenedValue>>()
  private readonly openedConflicts = new Map<string, OpenConflict>()
  private keyring: Keyring = EMPTY_KEYRING
  private readonly unsubscribe: (() => void)[] = []
  /** True once the manifest reached `in-sync` (or at once for local-only workspaces). */
  manifestSynced: boolean
  private closed = false

  constructor(
    readonly workspace: Workspace,
    /** Local-only: the scratch pad. */
    readonly local: boolean,
    private readonly changed: () => void,
    private readonly onManifestSynced: () => void,
  ) {
    this.manifestSynced = local
    const manifest = workspace.manifest
    this.unsubscribe.push(
      manifest.model.subscribe(() => {
        this.follow()
        this.changed()
      }),
    )
    if (!local) {
      const check = () => {
        if (!this.manifestSynced && manifest.status.getSnapshot().state === 'in-sync') {
          this.manifestSynced = true
          this.onManifestSynced()
          this.changed()
        }
      }
      this.unsubscribe.push(manifest.status.subscribe(check))
      queueMicrotask(check)
    } else queueMicrotask(() => this.onManifestSynced())
    this.follow()
    void this.openGlobals()
  }

  get id(): string {
    return this.workspace.id
  }

  get manifest(): WorkspaceModel {
    return this.workspace.manifest.model
  }

  /** Viewers (and nobody else) cannot write. */
  get readOnly(): boolean {
    return this.workspace.role === 'viewer'
  }

  setKeyring(ring: Keyring): void {
    this.keyring = ring
    this.refreshAllValues()
  }

  get ring(): Keyring {
    return this.keyring
  }

  /** Opens what the manifest lists and is not open yet. */
  private follow(): void {
    if (this.closed) return
    const m = this.manifest.snapshot()
    for (const entry of m.collections) if (!this.collections.has(entry.docId)) void this.openCollection(entry.docId)
    for (const entry of m.environments) if (!this.environments.has(entry.docId)) void this.openEnvironment(entry.docId)
  }

  async openCollection(id: string): Promise<SyncedDoc<CollectionModel>> {
    const existing = this.collections.get(id)
    if (existing) return existing
    const handle = await this.workspace.collection(id)
    if (!this.collections.has(id)) {
      this.collections.set(id, handle)
      this.watch(handle, () => this.refreshValues(handle.name, handle.model))
      void this.openLocals(handle)
      this.refreshValues(handle.name, handle.model)
    }
    this.changed()
    return handle
  }

  async openEnvironment(id: string): Promise<SyncedDoc<EnvironmentModel>> {
    const existing = this.environments.get(id)
    if (existing) return existing
    const handle = await this.workspace.environment(id)
    if (!this.environments.has(id)) {
      this.environments.set(id, handle)
      this.watch(handle, () => this.refreshValues(handle.name, handle.model))
      void this.openLocals(handle)
      this.refreshValues(handle.name, handle.model)
    }
    this.changed()
    return handle
  }

  async openRuns(collectionId: string): Promise<SyncedDoc<RunsModel>> {
    const existing = this.runs.get(collectionId)
    if (existing) return existing
    const handle = await this.workspace.runs(collectionId)
    if (!this.runs.has(collectionId)) {
      this.runs.set(collectionId, handle)
      this.watch(handle, () => {})
    }
    this.changed()
    return handle
  }

  private async openGlobals(): Promise<void> {
    const handle = await this.workspace.globals()
    if (this.closed) return
    this.globals = handle
    this.watch(handle, () => this.refreshValues(handle.name, handle.model))
    void this.openLocals(handle)
    this.refreshValues(handle.name, handle.model)
    this.changed()
  }

  private async openLocals(handle: SyncedDoc): Promise<void> {
    const values = await this.workspace.localValues(handle)
    if (this.closed) return
    this.locals.set(handle.name, values)
    this.unsubscribe.push(values.subscribe(this.changed))
    this.changed()
  }

  private watch(handle: SyncedDoc<AnyModel | RunsModel>, onChange: () => void): void {
    this.unsubscribe.push(
      handle.model.subscribe(() => {
        onChange()
        this.changed()
      }),
      handle.status.subscribe(this.changed),
    )
  }

  // ------------------------------------------------------------------------------------- sealed values

  /** The variable list of a doc, as @apisync/crypto seals and opens it. */
  variableList(doc: DocRef): VariableList | null {
    if (doc.kind === 'globals') return this.globals ? environmentVariables(this.globals.model) : null
    if (doc.kind === 'environment') {
      const h = this.environments.get(doc.id)
      return h ? environmentVariables(h.model) : null
    }
    if (doc.kind === 'collection') {
      const h = this.collections.get(doc.id)
      return h ? collectionVariables(h.model) : null
    }
    return null
  }

  handle(doc: DocRef): SyncedDoc<AnyModel> | null {
    if (doc.kind === 'manifest') return this.workspace.manifest
    if (doc.kind === 'globals') return this.globals
    if (doc.kind === 'environment') return this.environments.get(doc.id) ?? null
    return this.collections.get(doc.id) ?? null
  }

  private readonly generation = new Map<string, number>()

  /** Opens a doc's shared values (its own list; a collection's folders' only for their conflicts). */
  private refreshValues(docName: string, model: CollectionModel | EnvironmentModel): void {
    const lists = variableListsOf(model)
    const list = lists[0]!
    const gen = (this.generation.get(docName) ?? 0) + 1
    this.generation.set(docName, gen)
    const ring = this.keyring
    void readVariables(list, ring).then(
      (vars) => {
        if (this.generation.get(docName) !== gen) return
        this.opened.set(docName, new Map(vars.map((v) => [v.id, { value: v.value, state: v.state }])))
        this.changed()
      },
      () => {},
    )
    // Conflicts on sealed values: open their alternatives for the person choosing.
    for (const l of lists)
      for (const c of l.conflicts()) {
        if (c.kind !== 'value' || c.field !== 'value' || this.openedConflicts.has(c.id + ring.currentKid)) continue
        void openConflict(l, ring, c).then((o) => {
          this.openedConflicts.set(c.id + ring.currentKid, o)
          this.changed()
        })
      }
  }

  private refreshAllValues(): void {
    this.openedConflicts.clear()
    for (const h of this.collections.values()) this.refreshValues(h.name, h.model)
    for (const h of this.environments.values()) this.refreshValues(h.name, h.model)
    if (this.globals) this.refreshValues(this.globals.name, this.globals.model)
  }

  // ---------------------------------------------------------------------------------------- conflicts

  /** Every open conflict of every open doc of the workspace. */
  conflicts(): ConflictEntry[] {
    const out: ConflictEntry[] = []
    const add = (doc: DocRef, handle: SyncedDoc<AnyModel> | null | undefined) => {
      if (!handle) return
      for (const conflict of handle.model.conflicts()) {
        const opened = this.openedConflicts.get(conflict.id + this.keyring.currentKid)
        out.push({ doc, docName: handle.name, conflict, ...(opened ? { opened } : {}) })
      }
    }
    add({ kind: 'manifest' }, this.workspace.manifest)
    for (const [id, h] of this.collections) add({ kind: 'collection', id }, h)
    for (const [id, h] of this.environments) add({ kind: 'environment', id }, h)
    add({ kind: 'globals' }, this.globals)
    return out
  }

  /** Every doc of the workspace open here (manifest, collections, environments, globals, runs). */
  openHandles(): SyncedDoc[] {
    return [this.workspace.manifest, ...this.collections.values(), ...this.environments.values(), ...this.runs.values(), ...(this.globals ? [this.globals] : [])]
  }

  /** Resolves once every open doc stored what was done to it; rejects if the browser refused. */
  async whenStored(): Promise<void> {
    await Promise.all([...this.openHandles().map((h) => h.whenStored()), ...[...this.locals.values()].map((l) => l.whenStored())])
  }

  /** The person left a field: their next edit is another pending action. */
  breakActions(): void {
    for (const h of this.openHandles()) h.breakAction()
  }

  /** False while some change is not stored yet (or storing failed). */
  storedState(): boolean {
    return this.openHandles().every((h) => h.status.getSnapshot().stored)
  }

  close(): void {
    this.closed = true
    for (const u of this.unsubscribe.splice(0)) u()
  }
}
