/**
 * The pending ledger of one doc: every person's action on this device until the relay acks it.
 *
 * An action is one or more local Yjs transactions: consecutive transactions that change the same fields
 * (the same types and keys, e.g. keystrokes in one URL field or one script) within `windowMs` of each other
 * are one action, the way an undo stack groups keystrokes (Y.UndoManager's captureTimeout). Anything else
 * starts a new action.
 *
 * An action is acked when the relay's stored state vector covers every clock it created and each of its
 * transactions that only deleted (a delete creates no clock, so no state vector can cover it) travelled in a
 * frame the relay says it stored (`committedMessages`, counted per connection).
 *
 * Each action is stored under its own key (see LocalDocStore), so tabs of one device write their own
 * actions without overwriting each other's, and the tab that talks to the relay deletes acked ones.
 */

/** The stored form of one action. */
export interface ActionRecord {
  readonly v: 2
  /** Clocks it created: `[client, clockAfter, client, clockAfter, …]`. */
  readonly c: readonly number[]
  /** 1 while a transaction of it that only deleted is not known to be stored. */
  readonly d: 0 | 1
}

/** An action as tabs tell each other about it (the id, and its stored form). */
export interface ActionInfo {
  readonly id: string
  readonly record: ActionRecord
  /** The transaction that produced this message only deleted (its frame must be confirmed). */
  readonly deleteOnly: boolean
}

/** The older stored form (one record per doc instance): read, converted, deleted on the next write. */
export interface LegacyLedgerRecord {
  readonly v: 1
  readonly changes: readonly (readonly number[])[]
  readonly acked: Uint8Array | null
}

export interface LocalTransaction {
  readonly before: ReadonlyMap<number, number>
  readonly after: ReadonlyMap<number, number>
  readonly deletes: boolean
  /** What it changed: one string per changed type and its keys (see changedKey). */
  readonly target: string
}

interface Entry {
  readonly id: string
  clocks: Map<number, number>
  /** A delete-only transaction of it awaits confirmation… */
  deletePending: boolean
  /** …and went out in this frame of this connection (null: not sent yet). */
  deleteSentOn: number | null
  deleteFrame: number
}

export interface LedgerOptions {
  /** Transactions on the same fields this close together are one action. Default 1000 ms. */
  readonly windowMs?: number
  readonly now?: () => number
  /** Prefix of the ids of actions made here (unique per doc instance). */
  readonly idPrefix: string
}

export class Ledger {
  private readonly entries = new Map<string, Entry>()
  private latest: Entry | null = null
  private open: { entry: Entry; target: string; at: number } | null = null
  private seq = 0
  private readonly puts = new Set<string>()
  private readonly deletes = new Set<string>()
  /** The relay's stored state vector at the last ack (encoded), for backups of what it lacks. */
  acked: Uint8Array | null = null
  ackedDirty = false
  private readonly windowMs: number
  private readonly now: () => number

  constructor(private readonly o: LedgerOptions) {
    this.windowMs = o.windowMs ?? 1000
    this.now = o.now ?? Date.now
  }

  get count(): number {
    return this.entries.size
  }

  /** True when there is something to write (see takeWrite). */
  get dirty(): boolean {
    return this.puts.size > 0 || this.deletes.size > 0 || this.ackedDirty
  }

  has(id: string): boolean {
    return this.entries.has(id)
  }

  /**
   * Notes a local transaction. Returns the action it belongs to (new, or the open one it extends), or null if
   * it changed nothing. The action stays `latest` until clearLatest(): the update frame y-websocket sends for
   * this transaction (synchronously, from the same update event) carries it.
   */
  local(tr: LocalTransaction): ActionInfo | null {
    const added: [number, number][] = []
    for (const [client, clock] of tr.after) if ((tr.before.get(client) ?? 0) < clock) added.push([client, clock])
    this.latest = null
    if (added.length === 0 && !tr.deletes) return null
    const at = this.now()
    const open = this.open
    let entry: Entry
    if (open && open.target === tr.target && at - open.at <= this.windowMs) {
      entry = open.entry
      // Acked meanwhile: the same action goes on (it is pending again, under the same id).
      if (!this.entries.has(entry.id)) {
        entry.clocks = new Map()
        entry.deletePending = false
        this.entries.set(entry.id, entry)
        this.deletes.delete(entry.id)
      }
    } else {
      entry = { id: `${this.o.idPrefix}.${++this.seq}`, clocks: new Map(), deletePending: false, deleteSentOn: null, deleteFrame: 0 }
      this.entries.set(entry.id, entry)
    }
    this.open = { entry, target: tr.target, at }
    for (const [client, clock] of added) entry.clocks.set(client, Math.max(entry.clocks.get(client) ?? 0, clock))
    const deleteOnly = added.length === 0
    if (deleteOnly) {
      entry.deletePending = true
      entry.deleteSentOn = null
    }
    this.latest = entry
    this.puts.add(entry.id)
    return { id: entry.id, record: toRecord(entry), deleteOnly }
  }

  /** The next local transaction starts a new action (e.g. the person moved to another field). */
  breakAction(): void {
    this.open = null
  }

  /**
   * An action made in another tab of this device (the tab that talks to the relay tracks every action).
   * It becomes `latest` when `latest` is true: its update is about to go out in a frame.
   */
  upsert(info: ActionInfo, latest: boolean, store = true): void {
    let entry = this.entries.get(info.id)
    if (!entry) {
      entry = { id: info.id, clocks: new Map(), deletePending: false, deleteSentOn: null, deleteFrame: 0 }
      this.entries.set(info.id, entry)
    }
    const c = info.record.c
    for (let i = 0; i + 1 < c.length; i += 2) entry.clocks.set(c[i]!, Math.max(entry.clocks.get(c[i]!) ?? 0, c[i + 1]!))
    if (info.deleteOnly || (info.record.d === 1 && !entry.deletePending)) {
      entry.deletePending = true
      entry.deleteSentOn = null
    }
    if (store) {
      this.puts.add(info.id)
      this.deletes.delete(info.id)
    }
    if (latest) this.latest = entry
  }

  clearLatest(): void {
    this.latest = null
  }

  /** An update frame goes out on `connection`: it carries the latest transaction. */
  sentLatest(connection: number, frame: number): void {
    const e = this.latest
    if (!e || !e.deletePending) return
    e.deleteSentOn = connection
    e.deleteFrame = frame
  }

  /** A sync step 2 goes out on `connection`: it carries every change (the delete set included). */
  sentAll(connection: number, frame: number): void {
    for (const e of this.entries.values()) {
      if (!e.deletePending || e.deleteSentOn === connection) continue
      e.deleteSentOn = connection
      e.deleteFrame = frame
    }
  }

  /** Drops the actions an ack covers; returns their ids. */
  ack(connection: number, stateVector: ReadonlyMap<number, number>, committedMessages: number | null, encoded: Uint8Array): string[] {
    const done: string[] = []
    for (const e of this.entries.values()) {
      if (e.deletePending && committedMessages !== null && e.deleteSentOn === connection && e.deleteFrame <= committedMessages) e.deletePending = false
      if (e.deletePending) continue
      let covered = true
      for (const [client, clock] of e.clocks) if ((stateVector.get(client) ?? 0) < clock) covered = false
      if (covered) done.push(e.id)
    }
    this.remove(done)
    if (!equalBytes(this.acked, encoded)) {
      this.acked = encoded
      this.ackedDirty = true
    }
    return done
  }

  /** Forgets actions another tab saw acked (no write: that tab deletes them from storage). */
  forget(ids: readonly string[], acked: Uint8Array | null): void {
    for (const id of ids) {
      this.entries.delete(id)
      this.puts.delete(id)
    }
    if (acked) this.acked = acked
  }

  private remove(ids: readonly string[]): void {
    for (const id of ids) {
      this.entries.delete(id)
      this.puts.delete(id)
      this.deletes.add(id)
    }
  }

  /** Takes in actions stored earlier (by this doc's previous sessions, or other tabs). */
  restore(actions: ReadonlyMap<string, ActionRecord>, legacy: readonly LegacyLedgerRecord[], acked: Uint8Array | null, ackedVector: ReadonlyMap<number, number> | null): void {
    this.acked ??= acked
    for (const [id, record] of actions) {
      if (this.entries.has(id)) continue
      const entry: Entry = { id, clocks: new Map(), deletePending: record.d === 1, deleteSentOn: null, deleteFrame: 0 }
      for (let i = 0; i + 1 < record.c.length; i += 2) entry.clocks.set(record.c[i]!, record.c[i + 1]!)
      // Acked, but a tab wrote it again before it heard so: it is not pending.
      if (!entry.deletePending && ackedVector && [...entry.clocks].every(([c, k]) => (ackedVector.get(c) ?? 0) >= k)) {
        this.deletes.add(id)
        continue
      }
      this.entries.set(id, entry)
    }
    for (const record of legacy) {
      for (const flat of record.changes) {
        const entry: Entry = { id: `${this.o.idPrefix}.${++this.seq}`, clocks: new Map(), deletePending: flat[0] === 1, deleteSentOn: null, deleteFrame: 0 }
        for (let i = 1; i + 1 < flat.length; i += 2) entry.clocks.set(flat[i]!, flat[i + 1]!)
        this.entries.set(entry.id, entry)
        this.puts.add(entry.id)
      }
      this.acked ??= record.acked
    }
  }

  /** Every pending action (for a tab that takes over talking to the relay). */
  all(): ActionInfo[] {
    return [...this.entries.values()].map((e) => ({ id: e.id, record: toRecord(e), deleteOnly: false }))
  }

  /** What changed since the last call: actions to store (by id) and ids to delete. */
  takeWrite(): { put: [string, ActionRecord][]; del: string[]; acked: Uint8Array | null } {
    const put: [string, ActionRecord][] = []
    for (const id of this.puts) {
      const e = this.entries.get(id)
      if (e) put.push([id, toRecord(e)])
    }
    const out = { put, del: [...this.deletes], acked: this.ackedDirty ? this.acked : null }
    this.puts.clear()
    this.deletes.clear()
    this.ackedDirty = false
    return out
  }

  /** A write failed: mark it to be written again. */
  rewrite(write: { put: readonly [string, ActionRecord][]; del: readonly string[]; acked: Uint8Array | null }): void {
    for (const [id] of write.put) if (this.entries.has(id)) this.puts.add(id)
    for (const id of write.del) if (!this.entries.has(id)) this.deletes.add(id)
    if (write.acked) this.ackedDirty = true
  }
}

const toRecord = (e: Entry): ActionRecord => ({ v: 2, c: [...e.clocks].flat(), d: e.deletePending ? 1 : 0 })

const equalBytes = (a: Uint8Array | null, b: Uint8Array): boolean => !!a && a.length === b.length && a.every((x, i) => x === b[i])

export const isActionRecord = (value: unknown): value is ActionRecord =>
  typeof value === 'object' && value !== null && (value as ActionRecord).v === 2 && Array.isArray((value as ActionRecord).c)

export const isLegacyLedgerRecord = (value: unknown): value is LegacyLedgerRecord =>
  typeof value === 'object' && value !== null && (value as LegacyLedgerRecord).v === 1 && Array.isArray((value as LegacyLedgerRecord).changes)

/**
 * What a transaction changed, as one string: for a change inside an entity (a request, a folder, a row), that
 * entity (the type just under a root type); for a change of a root type itself, its name and the keys it
 * changed. Keystrokes in one request's URL (which may add query rows) give the same string; two new requests
 * (two keys of the root `items`) do not. Where one field ends and the next begins, the host says so
 * (breakAction, e.g. when a field loses the focus).
 */
export const changedKey = (changed: ReadonlyMap<unknown, ReadonlySet<string | null>>): string => {
  const parts = new Set<string>()
  for (const [type, keys] of changed) {
    let t = type as Typeish
    while (t._item && (t._item.parent as Typeish | null)?._item) t = t._item.parent as Typeish
    if (t._item) parts.add(`${t._item.id.client}:${t._item.id.clock}`)
    else parts.add(`${rootName(type)}=${[...keys].map((k) => k ?? '').sort().join(',')}`)
  }
  return [...parts].sort().join('|')
}

interface Typeish {
  _item: { id: { client: number; clock: number }; parent: unknown } | null
}

const rootName = (type: unknown): string => {
  const doc = (type as { doc?: { share: Map<string, unknown> } | null }).doc
  if (doc) for (const [name, t] of doc.share) if (t === type) return name
  return '?'
}
