/** Room: how changes reach peers (at once, or merged at the end of the turn) and storage (every one, at once). */
import * as decoding from 'lib0/decoding'
import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import { parseDocName } from '../src/doc-name.js'
import { Room, type Peer } from '../src/room.js'

class TestPeer implements Peer {
  awarenessIds: Set<number> | null = null
  readonly received: Uint8Array[] = []
  send(message: Uint8Array): void {
    this.received.push(message)
  }
  /** The updates of the sync-update messages received. */
  updates(): Uint8Array[] {
    return this.received.map((m) => {
      const d = decoding.createDecoder(m)
      expect([decoding.readVarUint(d), decoding.readVarUint(d)]).toEqual([0, 2])
      return decoding.readVarUint8Array(d)
    })
  }
  /** What a client that applied everything it received would hold. */
  doc(): Y.Doc {
    const doc = new Y.Doc()
    for (const u of this.updates()) Y.applyUpdate(doc, u)
    return doc
  }
}

/** The updates of `n` separate pushes by one client. */
function pushes(clientID: number, n: number): Uint8Array[] {
  const doc = new Y.Doc()
  doc.clientID = clientID
  const updates: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => updates.push(u))
  for (let i = 0; i < n; i++) doc.getArray('log').push([`${clientID}:${i}`])
  return updates
}

const endOfTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

function readyRoom(stored: Uint8Array[]) {
  const room = new Room<TestPeer>(parseDocName('w1/doc'), { changed: (_room, update) => stored.push(update) })
  room.load({ updates: [], seq: 0, snapshotSeq: 0 })
  room.state = 'ready'
  return room
}

describe('Room', () => {
  it('sends a turn’s first change at once and the rest merged at the end of the turn, never back to its sender', async () => {
    const stored: Uint8Array[] = []
    const room = readyRoom(stored)
    const [a, b, reader] = [new TestPeer(), new TestPeer(), new TestPeer()]
    for (const p of [a, b, reader]) room.join(p)
    const [a1, a2, a3] = pushes(1, 3)
    const [b1, b2] = pushes(2, 2)

    expect(room.applyUpdate(a1, a)).toBe(true)
    expect([a.received.length, b.received.length, reader.received.length]).toEqual([0, 1, 1])
    for (const [update, from] of [[a2, a], [b1, b], [a3, a], [b2, b]] as const) expect(room.applyUpdate(update, from)).toBe(true)
    // Storage got every change at once; peers got nothing more yet.
    expect(stored).toHaveLength(5)
    expect([a.received.length, b.received.length, reader.received.length]).toEqual([0, 1, 1])

    await endOfTurn()
    expect([a.received.length, b.received.length, reader.received.length]).toEqual([1, 2, 2])
    const log = (p: TestPeer) => p.doc().getArray('log').toArray().sort()
    expect(log(reader)).toEqual(['1:0', '1:1', '1:2', '2:0', '2:1'])
    expect(log(a)).toEqual(['2:0', '2:1']) // only b's changes
    expect(log(b)).toEqual(['1:0', '1:1', '1:2']) // only a's changes
    expect(Y.encodeStateVector(reader.doc())).toEqual(Y.encodeStateVector(room.doc))

    // The next turn starts afresh: its first change goes out at once again.
    const [a4] = pushes(1, 4).slice(3)
    room.applyUpdate(a4, a)
    expect(reader.received.length).toBe(3)
    room.destroy()
  })

  it('a change made while the turn’s earlier ones are held back reaches a peer that joined in between', async () => {
    const room = readyRoom([])
    const [writer, early] = [new TestPeer(), new TestPeer()]
    room.join(writer)
    room.join(early)
    const [w1, w2] = pushes(3, 2)
    room.applyUpdate(w1, writer)
    room.applyUpdate(w2, writer)
    const late = new TestPeer()
    room.join(late)
    await endOfTurn()
    expect(early.doc().getArray('log').toArray()).toEqual(['3:0', '3:1'])
    expect(late.received).toHaveLength(1)
    const lateDoc = late.doc()
    Y.applyUpdate(lateDoc, Y.encodeStateAsUpdate(room.doc)) // what its sync step 2 brought
    expect(lateDoc.getArray('log').toArray()).toEqual(['3:0', '3:1'])
    room.destroy()
  })
})
