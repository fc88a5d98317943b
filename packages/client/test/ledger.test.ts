import * as Y from 'yjs'
import { describe, expect, test } from 'vitest'
import { Ledger } from '../src/ledger.js'

/** Runs `fn` as one transaction on `doc` and feeds it to the ledger the way PersistedDoc does. */
const edit = (ledger: Ledger, doc: Y.Doc, fn: () => void) => {
  let added = false
  const handler = (_u: Uint8Array, _o: unknown, _d: Y.Doc, tr: Y.Transaction) => {
    added = ledger.add(tr.beforeState, tr.afterState, tr.deleteSet.clients.size > 0)
  }
  doc.on('update', handler)
  doc.transact(fn)
  doc.off('update', handler)
  return added
}
const sv = (doc: Y.Doc) => Y.decodeStateVector(Y.encodeStateVector(doc))

describe('Ledger', () => {
  test('a change is acked when the relay state vector covers its clocks', () => {
    const doc = new Y.Doc()
    const l = new Ledger()
    edit(l, doc, () => doc.getMap('m').set('a', 1))
    const afterFirst = sv(doc)
    edit(l, doc, () => doc.getMap('m').set('b', 2))
    expect(l.count).toBe(2)
    expect(l.ack(1, new Map(), 0, new Uint8Array())).toBe(0)
    expect(l.ack(1, afterFirst, null, new Uint8Array())).toBe(1)
    expect(l.count).toBe(1)
    expect(l.ack(1, sv(doc), null, new Uint8Array())).toBe(1)
    expect(l.count).toBe(0)
  })

  test('a change that only deletes is acked by the count of committed frames of the connection that carried it', () => {
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'hello')
    const l = new Ledger()
    expect(edit(l, doc, () => doc.getText('t').delete(0, 2))).toBe(true)
    expect(l.count).toBe(1)
    // No state vector can cover it…
    expect(l.ack(1, sv(doc), 5, new Uint8Array())).toBe(0)
    // …sent as frame 3 on connection 2: a count of 2 does not cover it, 3 does; connection 1's count never.
    l.sentLatest(2, 3)
    expect(l.ack(1, sv(doc), 9, new Uint8Array())).toBe(0)
    expect(l.ack(2, sv(doc), 2, new Uint8Array())).toBe(0)
    expect(l.ack(2, sv(doc), 3, new Uint8Array())).toBe(1)
  })

  test('a transaction that changes nothing is not a change', () => {
    const doc = new Y.Doc()
    const l = new Ledger()
    expect(edit(l, doc, () => {})).toBe(false)
    expect(l.count).toBe(0)
  })

  test('update frames carry the latest change only; a step 2 carries all not yet sent on that connection', () => {
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'abcdef')
    const l = new Ledger()
    edit(l, doc, () => doc.getText('t').delete(0, 1)) // offline, before connecting
    l.clearLatest() // the provider had no socket: nothing was sent
    edit(l, doc, () => doc.getText('t').delete(0, 1)) // sent as an update, frame 1 of connection 7
    l.sentLatest(7, 1)
    l.clearLatest()
    l.sentAll(7, 2) // the step 2 (frame 2) carries the offline one
    expect(l.ack(7, new Map(), 1, new Uint8Array())).toBe(1)
    expect(l.ack(7, new Map(), 2, new Uint8Array())).toBe(1)
  })

  test('record and restore keep pending changes across sessions (and nothing when none is pending)', () => {
    const doc = new Y.Doc()
    const l = new Ledger()
    edit(l, doc, () => doc.getMap('m').set('a', 1))
    edit(l, doc, () => doc.getMap('m').delete('a'))
    const record = l.record()!
    expect(record.changes).toHaveLength(2)
    const restored = new Ledger()
    restored.restore(record)
    expect(restored.count).toBe(2)
    expect(restored.ack(1, sv(doc), null, new Uint8Array([1]))).toBe(1) // the set; the delete needs a frame count
    restored.sentAll(1, 1)
    expect(restored.ack(1, sv(doc), 1, new Uint8Array([1]))).toBe(1)
    expect(restored.record()).toBeNull()
  })
})
