/**
 * A workspace as a host uses it: the manifest (opened first: name, index of collections and environments),
 * and each collection, environment, globals and runs doc opened lazily, from local data first.
 */
import {
  type CollectionInit,
  type DocAddress,
  type DocDiff,
  type DocKind,
  CollectionModel,
  type EnvironmentInit,
  EnvironmentModel,
  type GlobalsModel,
  type Json,
  type OpenOptions,
  RunsModel,
  type WorkspaceInit,
  WorkspaceModel,
  type WorkspaceSnapshot,
  docName,
  newId,
  parseDocName,
  requireSealedValues,
} from '@apisync/model'
import * as Y from 'yjs'
import type { DocSpace } from './doc-space.js'
import { SyncClientError } from './errors.js'
import { type ActivityPage, HistoryError, type HistoryPage, RelayHistory } from './history.js'
import { LocalValues } from './local-values.js'
import type { Role } from './registry.js'
import type { Model, SyncedDoc } from './synced-doc.js'
import { VersionCursors } from './version-cursor.js'
import { type ResolvedVariable, type ScopeVariables, resolveVariables } from './variables.js'

/** A workspace with any keyring record (members or key records) has encryption on. */
const hasKeyRecords = (m: WorkspaceSnapshot) => m.members.length > 0 || m.keyWraps.length > 0

/** Any of the doc models a workspace opens. */
export type AnyDocModel = CollectionModel | EnvironmentModel | GlobalsModel | WorkspaceModel | RunsModel

export class Workspace {
  private readonly locals = new Map<string, Promise<LocalValues>>()
  private relayHistory: RelayHistory | null = null
  private cursors: VersionCursors | null = null
  private encrypted = false

  private constructor(
    readonly id: string,
    /** The manifest: name, index of collections and environments, header presets. */
    readonly manifest: SyncedDoc<WorkspaceModel>,
    /** The role the account's token grants (null for the scratch pad). */
    readonly role: Role | null,
    private readonly space: DocSpace,
    private readonly options: OpenOptions,
    private readonly onClose: (ws: Workspace) => void,
  ) {}

  /** @internal Use Account.openWorkspace / createWorkspace, or SyncClient.scratchPad. */
  static async open(
    space: DocSpace,
    id: string,
    role: Role | null,
    options: OpenOptions,
    onClose: (ws: Workspace) => void,
    create?: WorkspaceInit,
  ): Promise<Workspace> {
    const name = docName({ workspaceId: id, kind: 'manifest' })
    const manifest = await space.open(name, (doc) => {
      const empty = !doc.getMap('meta').has('kind')
      return create && empty ? WorkspaceModel.create(doc, { ...create, id }, options) : WorkspaceModel.open(doc, options)
    })
    return new Workspace(id, manifest, role, space, options, onClose)
  }

  /**
   * Whether the workspace has encryption on: its manifest holds keyring records, or the host said so
   * (`requireSealedValues`). Once true it stays true for this handle, whatever the manifest says later.
   */
  get sealed(): boolean {
    if (!this.encrypted && hasKeyRecords(this.manifest.model.snapshot())) this.encrypted = true
    return this.encrypted
  }

  /**
   * Switches encryption on for this workspace's docs (there is no switching it off): their models refuse a
   * variable value in clear where it must be sealed (ModelError NOT_SEALED). Call it once the workspace is
   * known to be encrypted (e.g. its keyring opened verified), before the manifest has even synced.
   */
  requireSealedValues(): void {
    this.encrypted = true
  }

  /** Docs holding variables follow the workspace's encryption (see @apisync/model sealing). */
  private sealing = (doc: Y.Doc): Y.Doc => {
    requireSealedValues(doc, () => this.sealed)
    return doc
  }

  collection(id: string): Promise<SyncedDoc<CollectionModel>> {
    return this.space.open(docName({ workspaceId: this.id, kind: 'collection', id }), (doc) => CollectionModel.open(this.sealing(doc), this.options))
  }

  environment(id: string): Promise<SyncedDoc<EnvironmentModel>> {
    return this.space.open(docName({ workspaceId: this.id, kind: 'environment', id }), (doc) => EnvironmentModel.open(this.sealing(doc), this.options))
  }

  globals(): Promise<SyncedDoc<GlobalsModel>> {
    return this.space.open(docName({ workspaceId: this.id, kind: 'globals' }), (doc) => EnvironmentModel.openGlobals(this.sealing(doc), this.options))
  }

  runs(collectionId: string): Promise<SyncedDoc<RunsModel>> {
    return this.space.open(docName({ workspaceId: this.id, kind: 'runs', id: collectionId }), (doc) => RunsModel.open(doc, this.options))
  }

  /** Opens any doc of this workspace by its address (see parseDocName). */
  async openDoc(address: DocAddress): Promise<SyncedDoc> {
    if (address.workspaceId !== this.id) throw new SyncClientError('NO_SUCH_DOC', `${address.workspaceId} is not workspace ${this.id}`)
    switch (address.kind) {
      case 'manifest':
        return this.manifest
      case 'globals':
        return this.globals()
      case 'collection':
        return this.collection(address.id)
      case 'environment':
        return this.environment(address.id)
      case 'runs':
        return this.runs(address.id)
    }
  }

  /** Creates a collection (new id unless given) and lists it in the manifest. */
  async createCollection(init: CollectionInit & { readonly id?: string } = {}): Promise<SyncedDoc<CollectionModel>> {
    const id = init.id ?? newId()
    const handle = await this.space.open(docName({ workspaceId: this.id, kind: 'collection', id }), (doc) =>
      CollectionModel.create(this.sealing(doc), { ...init, id }, this.options),
    )
    this.index('collections', id, init.name ?? '')
    return handle
  }

  /** Creates an environment (new id unless given) and lists it in the manifest. */
  async createEnvironment(init: EnvironmentInit & { readonly id?: string } = {}): Promise<SyncedDoc<EnvironmentModel>> {
    const id = init.id ?? newId()
    const handle = await this.space.open(docName({ workspaceId: this.id, kind: 'environment', id }), (doc) =>
      EnvironmentModel.create(this.sealing(doc), { ...init, id }, this.options),
    )
    this.index('environments', id, init.name ?? '')
    return handle
  }

  /** Opens every collection and environment the manifest lists, and the globals (e.g. to have all offline). */
  async openAll(): Promise<SyncedDoc[]> {
    const m = this.manifest.model.snapshot()
    return Promise.all([
      ...m.collections.map((c) => this.collection(c.docId)),
      ...m.environments.map((e) => this.environment(e.docId)),
      this.globals(),
    ])
  }

  /** This device's local values for the variables of a collection, environment or globals doc. */
  localValues(doc: SyncedDoc): Promise<LocalValues> {
    let values = this.locals.get(doc.name)
    if (!values) {
      values = this.space.openLocal(doc.name).then((persisted) => new LocalValues(persisted))
      this.locals.set(doc.name, values)
      values.catch(() => this.locals.delete(doc.name))
    }
    return values
  }

  /**
   * The effective variables for a request in `collectionId` with `environmentId` selected: Postman's
   * precedence, local values over shared ones (see resolveVariables).
   */
  async variables(select: {
    readonly collectionId?: string
    readonly environmentId?: string
    readonly overrides?: Readonly<Record<string, Json>>
  }): Promise<ReadonlyMap<string, ResolvedVariable>> {
    const scope = async (doc: SyncedDoc<CollectionModel | EnvironmentModel>): Promise<ScopeVariables> => ({
      variables: doc.model.snapshot().variables,
      localValues: (await this.localValues(doc)).getSnapshot(),
    })
    const [globals, collection, environment] = await Promise.all([
      this.globals().then(scope),
      select.collectionId ? this.collection(select.collectionId).then(scope) : undefined,
      select.environmentId ? this.environment(select.environmentId).then(scope) : undefined,
    ])
    return resolveVariables({
      globals,
      ...(collection ? { collection } : {}),
      ...(environment ? { environment } : {}),
      ...(select.overrides ? { overrides: select.overrides } : {}),
    })
  }

  /** Closes this workspace's open docs (what is buffered is stored first). */
  /**
   * The versions the relay keeps of a doc of this workspace, newest first (`before`: a page's `next`). A
   * version is one session's consecutive changes (or one day's, past the keep-all window).
   */
  async history(doc: SyncedDoc | string, options: { before?: number; limit?: number } = {}): Promise<HistoryPage> {
    return this.historyClient().versions(this.docNameOf(doc), options)
  }

  /**
   * The doc as it was after version `seq`, as a read-only model (every write throws ModelError READ_ONLY),
   * its snapshot already read. The model is the caller's: it never changes (see version-cursor.ts: when this
   * device's cursor for the doc is at or before `seq`, it is moved forward and handed over). Sealed values
   * stay ciphertext, as in the live doc. HistoryError GONE if retention dropped it.
   */
  openVersion<M extends Model>(doc: SyncedDoc<M>, seq: number): Promise<M>
  openVersion(doc: string, seq: number): Promise<AnyDocModel>
  async openVersion(doc: SyncedDoc | string, seq: number): Promise<Model> {
    const name = this.docNameOf(doc)
    return (await this.versionCursors().open(name, seq)) as Model
  }

  /**
   * What changed between two versions of a doc (`to` = 'live': the doc as it is on this device now). Both
   * versions come from one doc moved forward (the older one, then the updates up to the newer one), and the
   * versions seen last are kept as snapshots, so paging through a doc's history mostly fetches only updates.
   */
  async diffVersions(doc: SyncedDoc | string, from: number, to: number | 'live'): Promise<DocDiff> {
    const name = this.docNameOf(doc)
    const kind = kindOf(name)
    if (to !== 'live') return this.versionCursors().diff(name, kind, from, to)
    const live = typeof doc === 'string' ? await this.openDoc(parseDocName(name)!) : doc
    return this.versionCursors().diffToLive(name, kind, from, live.model as AnyDocModel)
  }

  /** The workspace's activity: versions of all its docs, newest first, by person (`account`) or collection. */
  async activity(options: { before?: string; limit?: number; account?: string; collection?: string } = {}): Promise<ActivityPage> {
    const doc = options.collection !== undefined ? docName({ workspaceId: this.id, kind: 'collection', id: options.collection }) : undefined
    const page = await this.historyClient().activity(this.id, { before: options.before, limit: options.limit, account: options.account, doc })
    return {
      entries: page.entries.map((e) => {
        const address = parseDocName(e.doc)
        const kind: DocKind = address?.kind ?? 'manifest'
        return {
          doc: e.doc,
          kind,
          ...(address && (address.kind === 'collection' || address.kind === 'runs') ? { collectionId: address.id } : {}),
          seq: e.seq,
          firstSeq: e.firstSeq,
          at: e.at,
          account: e.account,
          device: e.device,
          changes: e.changes,
        }
      }),
      next: page.next,
    }
  }

  private historyClient(): RelayHistory {
    const relay = this.space.relay
    if (!relay) throw new HistoryError('NOT_FOUND', 'the scratch pad keeps no history (it never syncs)')
    return (this.relayHistory ??= new RelayHistory(relay))
  }

  /** @internal This workspace's warm versions (tests, benchmarks). */
  versionCursors(): VersionCursors {
    return (this.cursors ??= new VersionCursors(this.historyClient(), (name, doc) => openReadOnly(doc, kindOf(name), this.options)))
  }

  private docNameOf(doc: SyncedDoc | string): string {
    const name = typeof doc === 'string' ? doc : doc.name
    if (!name.startsWith(`${this.id}/`) || !parseDocName(name)) throw new HistoryError('NOT_FOUND', `${name} is not a doc of workspace ${this.id}`)
    return name
  }

  async close(): Promise<void> {
    this.cursors?.clear()
    this.onClose(this)
    await Promise.all(this.space.openDocs().filter((d) => d.name.startsWith(`${this.id}/`)).map((d) => d.close()))
  }

  private index(list: 'collections' | 'environments', docId: string, name: string): void {
    const m = this.manifest.model
    if (m.snapshot()[list].some((e) => e.docId === docId)) return
    m.addRow(list, { docId, name })
  }
}

function kindOf(name: string): DocKind {
  return parseDocName(name)!.kind
}

/** A model over a doc as it was: read-only, never migrated. */
function openReadOnly(doc: Y.Doc, kind: DocKind, options: OpenOptions): AnyDocModel {
  const o = { ...options, readOnly: true }
  switch (kind) {
    case 'manifest':
      return WorkspaceModel.open(doc, o)
    case 'collection':
      return CollectionModel.open(doc, o)
    case 'environment':
      return EnvironmentModel.open(doc, o)
    case 'globals':
      return EnvironmentModel.openGlobals(doc, o)
    case 'runs':
      return RunsModel.open(doc, o)
  }
}
