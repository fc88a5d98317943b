/**
 * The bus between relays: after a relay commits a doc's updates it publishes them with their sequence numbers
 * to the relays that hold the doc (a channel per doc: relays that do not hold it get nothing), and revocations
 * and deletions go to every relay. It is only the fast path: the store is the truth, and a relay that sees a gap
 * in a doc's sequence or reconnects to the bus reads what it missed from the store (replication.ts), so a lost
 * message delays delivery but never loses or diverges anything.
 *
 * One relay needs no bus: `noBus` does nothing. `RedisBus` (redis-bus.ts) is the one for several relays; the
 * binary layout of a doc message is here, in one place.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

/**
 * A doc's committed updates first…last (merged into one Yjs update), as published by relay `from`; or, with
 * first = last = 0, a **preview**: changes relay `from` received from its clients in one turn and relays to
 * its own peers at once, before they are committed. Other relays forward a preview to their peers without
 * applying it (so that remote readers are as quick as local ones) and apply the committed message, which lists
 * the previews it commits (`previews`) so that peers who had them are not sent the same content again.
 */
export interface DocMessage {
  docName: string
  from: string
  first: number
  last: number
  /** Epoch milliseconds when it was published (for the lag metric; clocks of different machines may differ). */
  sentAt: number
  update: Uint8Array
  /** A preview: [its id]. A commit: the ids of the previews of `from` whose content it holds. */
  previews: number[]
}

export const isPreview = (m: DocMessage): boolean => m.first === 0

/** Revocations and deletions, for every relay. */
export type ControlEvent =
  | { kind: 'session'; account: string; sid: string; reason: string }
  | { kind: 'account'; account: string; deletedAt: number }
  | { kind: 'workspace'; workspace: string }

export interface BusHandlers {
  /** A doc message on a doc this relay subscribed to (including its own: skip by `from`). */
  doc(message: DocMessage): void
  control(event: ControlEvent): void
  /** The connection to the bus came back after a loss: messages may have been missed meanwhile. */
  reconnected(): void
}

export interface Bus {
  readonly kind: string
  /** Connect and start delivering to `handlers`. */
  start(handlers: BusHandlers): Promise<void>
  /** Publish a doc's committed updates; best effort (a lost message is repaired from the store). */
  publish(message: DocMessage): void
  /** Start receiving a doc's messages; resolves once subscribed (or failed: then repairs catch up). */
  subscribe(docName: string): Promise<void>
  unsubscribe(docName: string): void
  /** Tell every relay; best effort (the periodic re-check bounds the delay of a lost one). */
  announce(event: ControlEvent): void
  /** Whether the bus is connected now. */
  readonly connected: boolean
  /** Rejects if the bus cannot be reached now (for /healthz). */
  ping(): Promise<void>
  close(): Promise<void>
}

/** One relay: nothing to tell anyone. */
export const noBus: Bus = {
  kind: 'none',
  start: async () => {},
  publish: () => {},
  subscribe: async () => {},
  unsubscribe: () => {},
  announce: () => {},
  connected: true,
  ping: async () => {},
  close: async () => {},
}

const DOC_MESSAGE_VERSION = 1

/**
 * `[varUint 1][varString from][varUint first][varUint last][float64 sentAt][varUint8Array update]
 * [varUint n][varUint preview]×n` (the doc is the channel).
 */
export function encodeDocMessage(m: DocMessage): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, DOC_MESSAGE_VERSION)
  encoding.writeVarString(e, m.from)
  encoding.writeVarUint(e, m.first)
  encoding.writeVarUint(e, m.last)
  encoding.writeFloat64(e, m.sentAt)
  encoding.writeVarUint8Array(e, m.update)
  encoding.writeVarUint(e, m.previews.length)
  for (const id of m.previews) encoding.writeVarUint(e, id)
  return encoding.toUint8Array(e)
}

/** Null if the message is not one this relay understands (a newer version, or garbage). */
export function decodeDocMessage(docName: string, bytes: Uint8Array): DocMessage | null {
  try {
    const d = decoding.createDecoder(bytes)
    if (decoding.readVarUint(d) !== DOC_MESSAGE_VERSION) return null
    const from = decoding.readVarString(d)
    const first = decoding.readVarUint(d)
    const last = decoding.readVarUint(d)
    const sentAt = decoding.readFloat64(d)
    const update = decoding.readVarUint8Array(d)
    const n = decoding.readVarUint(d)
    if (n > 100_000) return null
    const previews: number[] = []
    for (let i = 0; i < n; i++) previews.push(decoding.readVarUint(d))
    if (decoding.hasContent(d) || last < first || (first === 0 ? last !== 0 || n !== 1 : false)) return null
    return { docName, from, first, last, sentAt, update, previews }
  } catch {
    return null
  }
}

export function encodeControlEvent(from: string, event: ControlEvent): string {
  return JSON.stringify({ from, ...event })
}

export function decodeControlEvent(text: string): (ControlEvent & { from: string }) | null {
  try {
    const v = JSON.parse(text) as Record<string, unknown>
    const str = (k: string) => typeof v[k] === 'string'
    if (!str('from')) return null
    const from = v.from as string
    if (v.kind === 'session' && str('account') && str('sid') && str('reason'))
      return { from, kind: 'session', account: v.account as string, sid: v.sid as string, reason: v.reason as string }
    if (v.kind === 'account' && str('account') && typeof v.deletedAt === 'number')
      return { from, kind: 'account', account: v.account as string, deletedAt: v.deletedAt }
    if (v.kind === 'workspace' && str('workspace')) return { from, kind: 'workspace', workspace: v.workspace as string }
    return null
  } catch {
    return null
  }
}
