/**
 * The wire format, in one place: y-websocket's messages (y-protocols sync, awareness, auth) plus the relay's
 * ack extension. Byte layouts are documented in docs/protocol.md.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as authProtocol from 'y-protocols/auth'
import * as syncProtocol from 'y-protocols/sync'
import { ProtocolError } from './errors.js'

export const MessageType = {
  sync: 0,
  awareness: 1,
  auth: 2,
  queryAwareness: 3,
  /** Relay extension (opt in with `&ack=1`): the doc's committed state vector. */
  ack: 100,
} as const

export const SyncMessageType = {
  step1: syncProtocol.messageYjsSyncStep1,
  step2: syncProtocol.messageYjsSyncStep2,
  update: syncProtocol.messageYjsUpdate,
} as const

/** A client message, fully parsed: every byte accounted for. Payloads are copies with their own buffer. */
export type ClientMessage =
  | { type: 'sync-step-1'; stateVector: Uint8Array }
  | { type: 'sync-step-2'; update: Uint8Array }
  | { type: 'update'; update: Uint8Array }
  | { type: 'awareness'; update: Uint8Array }
  | { type: 'query-awareness' }

/**
 * Parse one binary frame from a client. Throws ProtocolError on anything that is not exactly one well-formed
 * message: empty frame, truncated or oversized varint, a length prefix past the end, trailing bytes, or a
 * message type a client may not send.
 */
export function readClientMessage(frame: Uint8Array): ClientMessage {
  const decoder = decoding.createDecoder(frame)
  const type = readVarUint(decoder, 'message type')
  let message: ClientMessage
  switch (type) {
    case MessageType.sync: {
      const syncType = readVarUint(decoder, 'sync message type')
      const payload = readBytes(decoder, 'sync payload')
      if (syncType === SyncMessageType.step1) message = { type: 'sync-step-1', stateVector: payload }
      else if (syncType === SyncMessageType.step2) message = { type: 'sync-step-2', update: payload }
      else if (syncType === SyncMessageType.update) message = { type: 'update', update: payload }
      else throw new ProtocolError(`unknown sync message type ${syncType}`)
      break
    }
    case MessageType.awareness:
      message = { type: 'awareness', update: readBytes(decoder, 'awareness payload') }
      break
    case MessageType.queryAwareness:
      message = { type: 'query-awareness' }
      break
    default:
      throw new ProtocolError(`unknown message type ${type}`)
  }
  if (decoding.hasContent(decoder)) throw new ProtocolError('trailing bytes after message')
  return message
}

function readVarUint(decoder: decoding.Decoder, what: string): number {
  // lib0 throws on a truncated varint and on one past 2^53; both are malformed input here.
  try {
    return decoding.readVarUint(decoder)
  } catch (cause) {
    throw new ProtocolError(`malformed ${what}`, { cause })
  }
}

/** A length-prefixed byte string, bounds-checked (lib0 trusts the prefix) and copied into its own buffer. */
function readBytes(decoder: decoding.Decoder, what: string): Uint8Array {
  const length = readVarUint(decoder, `${what} length`)
  const remaining = decoder.arr.length - decoder.pos
  if (length > remaining) throw new ProtocolError(`${what} length ${length} exceeds the ${remaining} bytes left`)
  const bytes = decoder.arr.slice(decoder.pos, decoder.pos + length)
  decoder.pos += length
  return bytes
}

export function encodeSyncStep1(stateVector: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MessageType.sync)
  encoding.writeVarUint(encoder, SyncMessageType.step1)
  encoding.writeVarUint8Array(encoder, stateVector)
  return encoding.toUint8Array(encoder)
}

export function encodeSyncStep2(update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MessageType.sync)
  encoding.writeVarUint(encoder, SyncMessageType.step2)
  encoding.writeVarUint8Array(encoder, update)
  return encoding.toUint8Array(encoder)
}

export function encodeUpdate(update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MessageType.sync)
  encoding.writeVarUint(encoder, SyncMessageType.update)
  encoding.writeVarUint8Array(encoder, update)
  return encoding.toUint8Array(encoder)
}

export function encodeAwareness(awarenessUpdate: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MessageType.awareness)
  encoding.writeVarUint8Array(encoder, awarenessUpdate)
  return encoding.toUint8Array(encoder)
}

/** y-protocols/auth permission-denied: stock y-websocket clients log `reason`. */
export function encodePermissionDenied(reason: string): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MessageType.auth)
  authProtocol.writePermissionDenied(encoder, reason)
  return encoding.toUint8Array(encoder)
}

/**
 * The ack: `[varUint 100][varUint8Array stateVector][varUint committedMessages]`. `stateVector` is the doc's
 * committed state vector; `committedMessages` counts this connection's sync step 2 / update messages whose
 * effects are now stored (0 in the ack sent right after the initial sync).
 */
export function encodeAck(stateVector: Uint8Array, committedMessages: number): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MessageType.ack)
  encoding.writeVarUint8Array(encoder, stateVector)
  encoding.writeVarUint(encoder, committedMessages)
  return encoding.toUint8Array(encoder)
}

export interface Ack {
  stateVector: Uint8Array
  committedMessages: number
}

/** Parse an ack (for clients and tests). Returns null when `frame` is not an ack message. */
export function readAck(frame: Uint8Array): Ack | null {
  const decoder = decoding.createDecoder(frame)
  if (decoding.readVarUint(decoder) !== MessageType.ack) return null
  const stateVector = decoding.readVarUint8Array(decoder)
  const committedMessages = decoding.hasContent(decoder) ? decoding.readVarUint(decoder) : 0
  return { stateVector, committedMessages }
}

/**
 * The body of `GET /history/state` (docs/protocol.md, "History"): a version as stored, not merged:
 * `[varUint base][varUint count]` then `count` × `[varUint8Array update]` (Yjs v1 updates). Applied in order on
 * top of the state after `base` (0: an empty doc), the updates give the state after the version asked for.
 */
export function encodeHistoryState(base: number, parts: readonly Uint8Array[]): Uint8Array {
  // The same bytes as writeVarUint8Array for each part, but the parts (tens of MB for a large doc) copied once,
  // into a body of the right size, instead of into the encoder's buffers and then out of them.
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, base)
  encoding.writeVarUint(encoder, parts.length)
  const heads: Uint8Array[] = [encoding.toUint8Array(encoder)]
  let size = heads[0].length
  for (const part of parts) {
    const length = encoding.createEncoder()
    encoding.writeVarUint(length, part.length)
    const head = encoding.toUint8Array(length)
    heads.push(head)
    size += head.length + part.length
  }
  const body = new Uint8Array(size)
  body.set(heads[0], 0)
  let at = heads[0].length
  parts.forEach((part, i) => {
    body.set(heads[i + 1], at)
    at += heads[i + 1].length
    body.set(part, at)
    at += part.length
  })
  return body
}

export interface HistoryStateBody {
  base: number
  parts: Uint8Array[]
}

/** Parse a `/history/state` body (for tests and tools; the client has its own reader). Throws ProtocolError. */
export function readHistoryState(body: Uint8Array): HistoryStateBody {
  const decoder = decoding.createDecoder(body)
  const base = readVarUint(decoder, 'base')
  const count = readVarUint(decoder, 'count')
  // Each part takes at least one byte (its length): a count past the bytes left is malformed, not a huge loop.
  if (count > body.length) throw new ProtocolError(`count ${count} exceeds the body`)
  const parts: Uint8Array[] = []
  for (let i = 0; i < count; i++) parts.push(readBytes(decoder, 'update'))
  if (decoding.hasContent(decoder)) throw new ProtocolError('trailing bytes after the updates')
  return { base, parts }
}
