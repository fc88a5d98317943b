/** Where imports write: an empty Y.Doc, in one transaction that carries IMPORT_ORIGIN. */
import type * as Y from 'yjs'
import { fail } from './errors.js'

/** The origin of the transaction an import writes in (for observers that tell imports from edits). */
export const IMPORT_ORIGIN: unique symbol = Symbol('apisync-postman-import')

/** Throws TARGET_NOT_EMPTY unless the doc has never held anything. */
export const ensureEmpty = (doc: Y.Doc): void => {
  if (doc.store.clients.size > 0)
    fail('TARGET_NOT_EMPTY', 'the target Y.Doc already holds data: import into a new, empty doc', undefined)
}
