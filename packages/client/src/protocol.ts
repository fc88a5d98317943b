/**
 * The relay's wire format as the client needs it, in one place: which outgoing frames carry changes (the
 * relay counts them for its acks), and the ack extension (docs/protocol.md):
 * `[varUint 100][varUint8Array encodedStateVector][varUint committedMessages]?`.
 */
import * as decoding from 'lib0/decoding'
import * as Y from 'yjs'

export const MESSAGE_SYNC = 0
export const MESSAGE_AUTH = 2
export const MESSAGE_ACK = 100
const SYNC_STEP_2 = 1
const SYNC_UPDATE = 2

/**
 * Sync step 2 and update frames are the ones the relay counts in an ack's `committedMessages`; a step 2
 * carries everything the relay lacks, an update one transaction. Other frames: null.
 */
export const changeFrameKind = (frame: Uint8Array): 'step2' | 'update' | null => {
  if (frame.length < 2 || frame[0] !== MESSAGE_SYNC) return null
  return frame[1] === SYNC_STEP_2 ? 'step2' : frame[1] === SYNC_UPDATE ? 'update' : null
}

export interface Ack {
  /** What the relay has stored for this doc. */
  readonly stateVector: Map<number, number>
  readonly encodedStateVector: Uint8Array
  /**
   * How many of this connection's change-carrying frames are stored (cumulative), or null when the relay does
   * not say (the count is optional in the protocol).
   */
  readonly committedMessages: number | null
}

/** Reads an ack's payload, after its message type. */
export const readAck = (decoder: decoding.Decoder): Ack => {
  const encodedStateVector = decoding.readVarUint8Array(decoder)
  const committedMessages = decoding.hasContent(decoder) ? decoding.readVarUint(decoder) : null
  return { stateVector: Y.decodeStateVector(encodedStateVector), encodedStateVector, committedMessages }
}

/** The y-websocket URL parameters that ask the relay for acks. */
export const ackParams = (token: string): Record<string, string> => ({ token, ack: '1' })

/** A `/history/state` body: Yjs v1 updates to apply in order on top of the state after `base` (0: empty doc). */
export interface HistoryStateBody {
  readonly base: number
  readonly parts: readonly Uint8Array[]
}

/**
 * Reads a `/history/state` body (docs/protocol.md, "History"): `[varUint base][varUint count]` then `count` ×
 * `[varUint8Array update]`. The parts are views into `body` (no copy). Null when it is not exactly that.
 */
export const readHistoryState = (body: Uint8Array): HistoryStateBody | null => {
  try {
    const decoder = decoding.createDecoder(body)
    const base = decoding.readVarUint(decoder)
    const count = decoding.readVarUint(decoder)
    if (count > body.length) return null // each part takes at least its length byte
    const parts: Uint8Array[] = []
    for (let i = 0; i < count; i++) {
      const length = decoding.readVarUint(decoder)
      // lib0 trusts the length prefix: a length past the end would be cut short silently.
      if (length > body.length - decoder.pos) return null
      parts.push(decoding.readUint8Array(decoder, length))
    }
    return decoding.hasContent(decoder) ? null : { base, parts }
  } catch {
    return null // a truncated or oversized varint
  }
}
