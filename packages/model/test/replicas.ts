/**
 * Replicas for the merge property tests: n docs with fixed client ids, all starting from one seed update, and
 * a network between them that delivers any subset of the updates a replica knows, in any order, duplicated or
 * withheld (`deliver`), or everything (`exchange`).
 */
import * as Y from 'yjs'
import type { CollectionModel } from '@apisync/model'
import { docs } from './helpers.js'

/** The origin of what the network applies (not a local write). */
export const REMOTE = Symbol('remote')

export class Replicas {
  readonly docs: Y.Doc[]
  /** Every local update made on any replica, in the order made. */
  readonly updates: Uint8Array[] = []
  /** Per replica: the indexes in `updates` it made or received. */
  readonly known: Set<number>[]

  constructor(n: number, seed: Uint8Array) {
    this.docs = docs(n)
    for (const d of this.docs) Y.applyUpdate(d, seed, REMOTE)
    this.known = this.docs.map(() => new Set<number>())
    this.docs.forEach((d, i) => {
      d.on('update', (u: Uint8Array, origin: unknown) => {
        if (origin !== REMOTE) this.known[i]!.add(this.updates.push(u) - 1)
      })
    })
  }

  /**
   * Sends `to` the updates `from` knows: those picked (by index into what it knows, repeats are duplicates, the
   * rest withheld), or all of them (null). False when nothing could be sent.
   */
  deliver(from: number, to: number, picks: readonly number[] | null | undefined): boolean {
    from %= this.docs.length
    to %= this.docs.length
    const known = [...this.known[from]!]
    if (from === to || !known.length) return false
    for (const p of picks ?? known.keys()) {
      const u = known[p % known.length]!
      Y.applyUpdate(this.docs[to]!, this.updates[u]!, REMOTE)
      this.known[to]!.add(u)
    }
    return true
  }

  /** Every replica gets everything (two rounds: what one learns from another is passed on). */
  exchange(): void {
    for (let round = 0; round < 2; round++)
      for (const a of this.docs)
        for (const b of this.docs) if (a !== b) Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)), REMOTE)
    for (const k of this.known) for (let i = 0; i < this.updates.length; i++) k.add(i)
  }
}

/** Resolves one of `m`'s open conflicts (the `conflict`-th, modulo) with one of its choices or alternatives. */
export function resolveOne(m: CollectionModel, conflict: number, choice: number): void {
  const open = m.conflicts()
  const c = open[conflict % Math.max(1, open.length)]
  if (c) m.resolve(c.id, c.choices.length ? c.choices[choice % c.choices.length]! : { pick: choice % c.alternatives.length })
}
