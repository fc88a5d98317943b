/**
 * Local values of variables (Postman's "current value"): this device only, never synced. They live in a
 * local-only Y.Doc beside the synced doc, keyed by the variable's row id (so a rename keeps them).
 */
import type { Json } from '@apisync/model'
import type * as Y from 'yjs'
import type { PersistedDoc } from './persisted-doc.js'
import type { Subscribable } from './status.js'

const ORIGIN = Symbol('apisync-local-values')

export class LocalValues implements Subscribable<ReadonlyMap<string, Json>> {
  private readonly values: Y.Map<Json>
  private snapshot: ReadonlyMap<string, Json> | null = null
  private readonly listeners = new Set<() => void>()

  constructor(private readonly persisted: PersistedDoc) {
    this.values = persisted.doc.getMap<Json>('values')
    this.values.observe(() => {
      this.snapshot = null
      for (const l of [...this.listeners]) l()
    })
  }

  /** The local value of a variable, or undefined when it has none (the shared value applies). */
  get(variableId: string): Json | undefined {
    return this.values.get(variableId)
  }

  set(variableId: string, value: Json): void {
    this.persisted.doc.transact(() => this.values.set(variableId, value), ORIGIN)
  }

  /** Removes the local value: the shared value applies again. */
  clear(variableId: string): void {
    if (this.values.has(variableId)) this.persisted.doc.transact(() => this.values.delete(variableId), ORIGIN)
  }

  /** Resolves once every local value set so far is in local storage. */
  whenStored(): Promise<void> {
    return this.persisted.whenStored()
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  /** Variable id → local value; the same object until a value changes. */
  readonly getSnapshot = (): ReadonlyMap<string, Json> => (this.snapshot ??= new Map(this.values.entries()))
}
