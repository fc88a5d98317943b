/**
 * The pending ledger of one doc: every local change (one Yjs transaction) until the relay acks it.
 *
 * A change is acked when the relay's stored state vector covers every clock it created, or when the relay
 * says the frame that carried it is stored (`committedMessages`, counted per connection). The second rule is
 * what acks changes that only delete (a delete creates no clock, so no state vector can cover it).
 */
export interface Change {
  /** Per client whose clock the change advanced: the clock after it. */
  readonly clocks: ReadonlyArray<readonly [client: number, clock: number]>
  /** The change deleted something. */
  readonly deletes: boolean
}

/** The stored form: a flat list of numbers per change, cheap to structured-clone into IndexedDB. */
export interface LedgerRecord {
  readonly v: 1
  /** Each change as `[deletes ? 1 : 0, client, clock, client, clock, …]`. */
  readonly changes: readonly (readonly number[])[]
  /** The relay's stored state vector at the last ack (encoded), for backups of what it lacks. */
  readonly acked: Uint8Array | null
}

interface Entry extends Change {
  /** The connection whose frame carried it last, and that frame's number on the connection. */
  sentOn: number | null
  frame: number
}

export class Ledger {
  private entries: Entry[] = []
  private latest: Entry | null = null
  /** Set when the ledger changed since the last `record()`. */
  dirty = false
  acked: Uint8Array | null = null

  get count(): number {
    return this.entries.length
  }

  /**
   * Notes a local transaction, from its before/after state vectors. Returns false if it changed nothing.
   * The entry stays `latest` until `clearLatest()`: the update frame y-websocket sends for this transaction
   * (synchronously, from the same update event) carries exactly it.
   */
  add(before: Map<number, number>, after: Map<number, number>, deletes: boolean): boolean {
    const clocks: [number, number][] = []
    for (const [client, clock] of after) if ((before.get(client) ?? 0) < clock) clocks.push([client, clock])
    this.latest = null
    if (clocks.length === 0 && !deletes) return false
    this.latest = { clocks, deletes, sentOn: null, frame: 0 }
    this.entries.push(this.latest)
    this.dirty = true
    return true
  }

  clearLatest(): void {
    this.latest = null
  }

  /** An update frame goes out on `connection`: it carries the latest transaction. */
  sentLatest(connection: number, frame: number): void {
    if (!this.latest || this.latest.sentOn === connection) return
    this.latest.sentOn = connection
    this.latest.frame = frame
  }

  /** A sync step 2 goes out on `connection`: it carries every change (at least those not sent on it yet). */
  sentAll(connection: number, frame: number): void {
    for (const e of this.entries) {
      if (e.sentOn === connection) continue
      e.sentOn = connection
      e.frame = frame
    }
  }

  /** Drops the changes an ack covers; returns how many. */
  ack(connection: number, stateVector: Map<number, number>, committedMessages: number | null, encoded: Uint8Array): number {
    const before = this.entries.length
    this.entries = this.entries.filter(
      (e) =>
        !(
          (e.clocks.length > 0 && e.clocks.every(([client, clock]) => (stateVector.get(client) ?? 0) >= clock)) ||
          (committedMessages !== null && e.sentOn === connection && e.frame <= committedMessages)
        ),
    )
    this.acked = encoded
    this.dirty = true
    return before - this.entries.length
  }

  /** The stored form, or null when nothing is pending (no record is kept then). Clears `dirty`. */
  record(): LedgerRecord | null {
    this.dirty = false
    if (this.entries.length === 0) return null
    return { v: 1, changes: this.entries.map((e) => [e.deletes ? 1 : 0, ...e.clocks.flat()]), acked: this.acked }
  }

  /** Takes in changes stored earlier (by this doc's previous sessions, or another tab). */
  restore(record: LedgerRecord): void {
    for (const flat of record.changes) {
      const clocks: [number, number][] = []
      for (let i = 1; i + 1 < flat.length; i += 2) clocks.push([flat[i]!, flat[i + 1]!])
      this.entries.push({ clocks, deletes: flat[0] === 1, sentOn: null, frame: 0 })
    }
    this.acked ??= record.acked
    if (record.changes.length > 0) this.dirty = true
  }
}

export const isLedgerRecord = (value: unknown): value is LedgerRecord =>
  typeof value === 'object' && value !== null && (value as LedgerRecord).v === 1 && Array.isArray((value as LedgerRecord).changes)
