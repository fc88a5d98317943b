/**
 * Docs holding one entity: an environment, the workspace's globals, and the workspace manifest (name, index of
 * collections and environments, header presets). Same registers, texts, lists and conflicts as collections.
 */
import { newId } from './ids.js'
import * as Y from 'yjs'
import { DocModel, type OpenOptions } from './doc.js'
import { type Conflict, type EntityRef, type Problem, type RowInit, applyPatch, validatePatch } from './entity.js'
import type { Placement } from './rows.js'
import { checkSealedRows } from './sealing.js'
import type { EntityKind } from './schema.js'
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
}

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
