/** Checks on Yjs updates received from clients, done before anything touches a shared doc. */
import * as decoding from 'lib0/decoding'
import * as Y from 'yjs'
import { ProtocolError } from './errors.js'

export type DecodedUpdate = ReturnType<typeof Y.decodeUpdate>

/**
 * Parse a v1 update completely (structs, their content, the delete set) so that a malformed one is refused
 * before it is applied: Yjs integrates structs before it reads the delete set, so applying a truncated update
 * would leave half of it in the doc.
 */
export function decodeUpdate(update: Uint8Array): DecodedUpdate {
  try {
    return Y.decodeUpdate(update)
  } catch (cause) {
    throw new ProtocolError('invalid Yjs update', { cause })
  }
}

/** No structs (skips aside) and no deletions: applying it changes nothing anywhere. */
export function isEmptyUpdate(decoded: DecodedUpdate): boolean {
  return decoded.structs.every((s) => s instanceof Y.Skip) && decoded.ds.clients.size === 0
}

/**
 * Whether applying `decoded` to `doc` would change it: a struct the doc does not have yet, or a deletion of
 * something not already deleted. A client's sync step 2 carries its whole delete set, so a read-only client
 * whose deletions the doc already has must not be told off for it.
 */
export function wouldChange(doc: Y.Doc, decoded: DecodedUpdate): boolean {
  for (const struct of decoded.structs) {
    if (struct instanceof Y.Skip) continue
    if (struct.id.clock + struct.length > Y.getState(doc.store, struct.id.client)) return true
  }
  if (decoded.ds.clients.size === 0) return false
  const deleted = Y.createDeleteSetFromStructStore(doc.store)
  for (const [client, ranges] of decoded.ds.clients) {
    const known = Y.getState(doc.store, client)
    const have = deleted.clients.get(client) ?? []
    for (const { clock, len } of ranges) {
      if (len === 0) continue
      if (clock + len > known) return true
      if (!have.some((r) => r.clock <= clock && clock + len <= r.clock + r.len)) return true
    }
  }
  return false
}

/** Decode a state vector, refusing malformed ones. */
export function decodeStateVector(stateVector: Uint8Array): Map<number, number> {
  try {
    return Y.decodeStateVector(stateVector)
  } catch (cause) {
    throw new ProtocolError('invalid state vector', { cause })
  }
}

/**
 * Parse an awareness update completely (client id, clock and a JSON state per entry, nothing after) before
 * y-protocols applies it entry by entry, so a malformed one changes nothing.
 */
export function validateAwarenessUpdate(update: Uint8Array): void {
  try {
    const decoder = decoding.createDecoder(update)
    const count = decoding.readVarUint(decoder)
    for (let i = 0; i < count; i++) {
      decoding.readVarUint(decoder)
      decoding.readVarUint(decoder)
      JSON.parse(decoding.readVarString(decoder))
    }
    if (decoding.hasContent(decoder)) throw new Error('trailing bytes')
  } catch (cause) {
    throw new ProtocolError('invalid awareness update', { cause })
  }
}
