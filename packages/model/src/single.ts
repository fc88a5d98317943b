/**
 * Docs holding one entity: an environment, the workspace's globals, and the workspace manifest (name, index of
 * collections and environments, header presets). Same registers, texts, lists and conflicts as collections.
 */
import { newId } from './ids.js'
import * as Y from 'yjs'
import { DocModel, type OpenOptions } from './doc.js'
import { type Conflict, type EntityRef, type Problem, type RowGroup, type RowInit, applyPatch, validatePatch } from './entity.js'
import { ModelError } from './errors.js'
import { type Restorer, allFields, checkSameDoc, restoreFields, restoreRow, restoreRowField, restorer, rowIn, schemaFieldsOf, twoPass } from './restore.js'
import type { Placement } from './rows.js'
import { rowAt } from './row-ids.js'
import { checkSealedRows } from './sealing.js'
import { type EntityKind, specOf } from './schema.js'
import type {
  EnvironmentInit,
  EnvironmentPatch,
  EnvironmentSnapshot,
  GlobalsSnapshot,
  WorkspaceInit,
  WorkspacePatch,
  WorkspaceSnapshot,
} from './types.js'
import type { YType } from './yjs-items.js'

abstract class SingleEntityModel<S extends { conflicts: readonly Conflict[]; problems: readonly Problem[] }, P, L extends string> extends DocModel<S> {
  private last: S | undefined
  private lastValue: unknown

  get id(): string {
    return this.root!.id
  }

  protected extraUndoScope(): YType[] {
    return []
  }

  protected writable(_id: string): EntityRef {
    return this.root!
  }

  protected init(id: string | undefined, init: object): void {
    validatePatch(this.root!.kind, init, this.root!.kind, true)
    checkSealedRows(this.doc, this.kind, (init as { variables?: unknown }).variables, this.root!.kind)
    this.transact(() => {
      this.doc.getMap<unknown>('meta').set('id', id ?? newId())
      applyPatch(this.root!, init, this.ctx)
    })
    this.clearUndoHistory()
  }

  snapshot(): S {
    const state = this.reader.entity(this.root!)
    if (this.last && this.lastValue === state.value) return this.last
    this.lastValue = state.value
    this.last = { ...(state.value as object), conflicts: state.conflicts, problems: state.problems } as unknown as S
    return this.last
  }

  conflicts(): readonly Conflict[] {
    return this.snapshot().conflicts
  }

  update(patch: P): void {
    this.patch(this.root!, patch as object)
  }

  /** Rows of a list; nested lists are addressed as `list/rowId/list` (e.g. `headerPresets/ID/headers`). */
  addRow(list: L, row: RowInit, placement?: Placement): string {
    return this.rowAdd(this.id, list, row, placement)
  }
  updateRow(list: L, rowId: string, patch: object): void {
    this.rowUpdate(this.id, list, rowId, patch)
  }
  removeRow(list: L, rowId: string): void {
    this.rowRemove(this.id, list, rowId)
  }
  moveRow(list: L, rowId: string, placement: Placement): void {
    this.rowMove(this.id, list, rowId, placement)
  }

  // Restore (history): see restore.ts. Membership and key records are not restored here: they are signed
  // records whose authority @apisync/crypto checks, and bringing back a removed member would re-admit them.

  /** Brings the whole doc back to `from` (an earlier version of it): its fields and lists as they were. */
  restoreAll(from: DocModel<unknown>): void {
    const src = this.versionOf(from)
    const fields = allFields(this.root!.kind).filter((f) => !PROTECTED.has(f))
    this.restoreRun((r) => restoreFields(r, src.root!, r.fromReader.entity(src.root!), this.root!, fields))
  }

  /**
   * Restores one field as it was in `from`: of the doc itself (id '' or its id: `name`, `extra`) or of one row
   * (a variable's `value`, `name`, `type`…; an index entry's `name`; a header preset's `headers`), exactly the
   * `field` a diff's change carries. The row must be live now (else restoreItem).
   */
  restoreField(from: DocModel<unknown>, id: string, field: string): void {
    const src = this.versionOf(from)
    if (id === '' || id === this.id) {
      const fields = schemaFieldsOf(this.root!.kind, field, this.root!.path)
      return this.restoreRun((r) => restoreFields(r, src.root!, r.fromReader.entity(src.root!), this.root!, fields))
    }
    const row = this.rowOf(src, id)
    const fields = schemaFieldsOf(row.kind, field, `${row.path}:${id}`)
    this.restoreRun((r) => restoreRowField(r, row.group, row.live, row.kind, row.path, this.id, id, fields))
  }

  /** Brings one row (a variable, an index entry, a header preset) back as it was in `from`: undeleted or recreated, its values, its place. */
  restoreItem(from: DocModel<unknown>, id: string): void {
    const src = this.versionOf(from)
    const row = this.rowOf(src, id)
    this.restoreRun((r) => restoreRow(r, row.group, row.live, row.kind, row.path, this.id))
  }

  private versionOf(from: DocModel<unknown>): SingleEntityModel<S, P, L> {
    const readOnly = this.openError
    if (readOnly) throw readOnly
    if (!(from instanceof SingleEntityModel)) throw new ModelError('WRONG_KIND', `cannot restore a ${this.kind} from a ${from.kind}`)
    checkSameDoc(this.kind, from.kind, this.id, (from as SingleEntityModel<S, P, L>).id)
    return from as SingleEntityModel<S, P, L>
  }

  private restoreRun(write: (r: Restorer) => void): void {
    twoPass((dry) => restorer(this.doc, this.kind, this.ctx, dry), write, (fn) => this.transact(fn))
  }

  /** The row `id` as `src` showed it, with the list it belongs to here. */
  private rowOf(src: SingleEntityModel<S, P, L>, id: string): { group: RowGroup; live: Y.Map<unknown>; kind: EntityKind; path: string } {
    const spec = specOf(this.root!.kind)
    const read = restorer(src.doc, this.kind, this.ctx, true)
    for (const field in spec) {
      const fs = spec[field]!
      const list = src.root!.container(field)
      if (fs.kind !== 'list' || !(list instanceof Y.Map) || rowAt(list, id) === undefined) continue
      const path = `${this.root!.path}/${field}`
      if (PROTECTED.has(field)) throw new ModelError('INVALID_VALUE', `${field} are signed records: they change through @apisync/crypto, not by restore`, `${path}:${id}`)
      const group = rowIn(read, list, fs.row, path, this.id, id)
      if (!group) throw new ModelError('NOT_FOUND', `row ${id} is not in that version (removed there)`, `${path}:${id}`)
      return { group, live: this.root!.container(field) as Y.Map<unknown>, kind: fs.row, path }
    }
    throw new ModelError('NOT_FOUND', `no row ${id} in that version`, `${this.root!.path}/${id}`)
  }
}

/** Workspace lists that restore leaves alone (see SingleEntityModel). */
const PROTECTED: ReadonlySet<string> = new Set(['members', 'keyWraps'])

export class EnvironmentModel extends SingleEntityModel<EnvironmentSnapshot, EnvironmentPatch, 'variables'> {
  private constructor(doc: Y.Doc, kind: 'environment' | 'globals', options?: OpenOptions) {
    super(doc, kind, kind satisfies EntityKind, options)
  }
  static open(doc: Y.Doc, options?: OpenOptions): EnvironmentModel {
    return new EnvironmentModel(doc, 'environment', options)
  }
  static create(doc: Y.Doc, init: EnvironmentInit & { readonly id?: string } = {}, options?: OpenOptions): EnvironmentModel {
    const model = new EnvironmentModel(doc, 'environment', options)
    model.init(init.id, init)
    return model
  }
  /** The workspace's global variables: an environment-shaped doc of its own. */
  static openGlobals(doc: Y.Doc, options?: OpenOptions): GlobalsModel {
    return new EnvironmentModel(doc, 'globals', options)
  }
  static createGlobals(doc: Y.Doc, init: EnvironmentInit & { readonly id?: string } = {}, options?: OpenOptions): GlobalsModel {
    const model = new EnvironmentModel(doc, 'globals', options)
    model.init(init.id, init)
    return model
  }
}
export type GlobalsModel = EnvironmentModel
export type { GlobalsSnapshot }

type WorkspaceList = 'collections' | 'environments' | 'headerPresets' | `headerPresets/${string}/headers` | 'members' | 'keyWraps'

export class WorkspaceModel extends SingleEntityModel<WorkspaceSnapshot, WorkspacePatch, WorkspaceList> {
  private constructor(doc: Y.Doc, options?: OpenOptions) {
    super(doc, 'manifest', 'workspace', options)
  }
  static open(doc: Y.Doc, options?: OpenOptions): WorkspaceModel {
    return new WorkspaceModel(doc, options)
  }
  static create(doc: Y.Doc, init: WorkspaceInit & { readonly id?: string } = {}, options?: OpenOptions): WorkspaceModel {
    const model = new WorkspaceModel(doc, options)
    model.init(init.id, init)
    return model
  }
}
