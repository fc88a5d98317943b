/**
 * Sealing on import: with a `seal` function (e.g. @apisync/crypto `sealerFor(keyring)`), every variable value
 * that must be sealed (the model's `mustSeal`: all of an environment's or globals', and the collection's and
 * folders' `secret` ones) is sealed in the checked file's plan, before the one write into the doc, so no value
 * enters a Y.Doc in clear, not even for a moment.
 */
import { type Json, type Variable, mustSeal } from '@apisync/model'

export interface SealTarget {
  readonly docKind: 'collection' | 'environment' | 'globals'
  /** The collection or environment id. */
  readonly docId: string
  /** The collection (its own variables) or folder the variable belongs to; the doc id for environments. */
  readonly ownerId: string
  readonly rowId: string
}

/** Seals one value for its place; what it returns is stored instead of the value. */
export type ValueSealer = (value: Json, target: SealTarget) => Promise<Json>

/** The rows with their values sealed where they must be (the others as they are). */
export const sealRows = (rows: readonly Variable[], seal: ValueSealer, where: Omit<SealTarget, 'rowId'>): Promise<Variable[]> =>
  Promise.all(rows.map(async (v) => (mustSeal(where.docKind, v.type) ? { ...v, value: await seal(v.value, { ...where, rowId: v.id }) } : v)))
