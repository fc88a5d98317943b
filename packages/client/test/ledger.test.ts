import * as Y from 'yjs'
import { describe, expect, test } from 'vitest'
import { Ledger, changedKey } from '../src/ledger.js'

/** A ledger with a clock the test moves. */
const ledger = (windowMs = 1000) => {
  let now = 0
  const l = new Ledger({ idPrefix: 't', windowMs, now: () => now })
  return Object.assign(l, { tick: (ms: number) => (now += ms) })
}

/** Runs `fn` as one transaction on `doc` and feeds it to the ledger the way PersistedDoc does. */
const edit = (l: Ledger, doc: Y.Doc, fn: () => void) => {
  let id: string | null = null
  const handler = (_u: Uint8Array, _o: unknown, _d: Y.Doc, tr: Y.Transaction) => {
    id = l.local({ before: tr.beforeState, after: tr.afterState, deletes: tr.deleteSet.clients.size > 0, target: changedKey(tr.changed) })?.id ?? null
  }
  doc.on('update', handler)
  doc.transact(fn)
  doc.off('update', handler)
  return id
}
const sv = (doc: Y.Doc) => Y.decodeStateVector(Y.encodeStateVector(doc))
const none = new Uint8Array()

describe('Ledger', () => {
  test('an action is acked when the relay state vector covers its clocks', () => {
    const doc = new Y.Doc()
    const l = ledger()
    edit(l, doc, () => doc.getMap('m').set('a', 1))
    const afterFirst = sv(doc)
    edit(l, doc, () => doc.getMap('m').set('b', 2))
    expect(l.count).toBe(2)
    expect(l.ack(1, new Map(), 0, none)).toEqual([])
    expect(l.ack(1, afterFirst, null, none)).toHaveLength(1)
    expect(l.count).toBe(1)
    expect(l.ack(1, sv(doc), null, none)).toHaveLength(1)
    expect(l.count).toBe(0)
  })

  test('keystrokes in one field within the window are one action; another field, or a pause, starts a new one', () => {
    const doc = new Y.Doc()
    const l = ledger(1000)
    const url = doc.getText('url')
    const first = edit(l, doc, () => url.insert(0, 'h'))
    for (const [i, ch] of [...'ttps://api'].entries()) {
      l.tick(150)
      expect(edit(l, doc, () => url.insert(i + 1, ch))).toBe(first)
    }
    l.tick(100)
    expect(edit(l, doc, () => url.delete(url.length - 1, 1))).toBe(first) // a backspace too
    expect(l.count).toBe(1)
    l.tick(100)
    const other = edit(l, doc, () => doc.getText('name').insert(0, 'x'))
    expect(other).not.toBe(first)
    l.tick(100)
    expect(edit(l, doc, () => url.insert(0, 'x'))).not.toBe(first) // back to the URL: a new action
    l.tick(2000)
    const afterPause = edit(l, doc, () => url.insert(0, 'y'))
    l.tick(10)
    expect(edit(l, doc, () => url.insert(0, 'z'))).toBe(afterPause)
    l.breakAction()
    expect(edit(l, doc, () => url.insert(0, 'w'))).not.toBe(afterPause)
    expect(l.count).toBe(5)
  })

  test('two new entries of one map are two actions (a map key is a field)', () => {
    const doc = new Y.Doc()
    const l = ledger()
    edit(l, doc, () => doc.getMap('items').set('a', new Y.Map()))
    edit(l, doc, () => doc.getMap('items').set('b', new Y.Map()))
    expect(l.count).toBe(2)
  })

  test('a grouped action that ends with a delete is acked only once that delete is stored', () => {
    const doc = new Y.Doc()
    const l = ledger()
    const t = doc.getText('t')
    edit(l, doc, () => t.insert(0, 'abc'))
    l.sentLatest(1, 1)
    edit(l, doc, () => t.delete(2, 1)) // delete-only: no clock
    l.sentLatest(1, 2)
    // The state vector covers every clock, but frame 2 (the delete) is not stored yet.
    expect(l.ack(1, sv(doc), 1, none)).toEqual([])
    expect(l.ack(1, sv(doc), 2, none)).toHaveLength(1)
  })

  test('an action that only deletes is acked by the count of committed frames of the connection that carried it', () => {
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'hello')
    const l = ledger()
    expect(edit(l, doc, () => doc.getText('t').delete(0, 2))).not.toBeNull()
    expect(l.count).toBe(1)
    expect(l.ack(1, sv(doc), 5, none)).toEqual([]) // never sent: nothing can cover it
    l.sentLatest(2, 3)
    expect(l.ack(1, sv(doc), 9, none)).toEqual([])
    expect(l.ack(2, sv(doc), 2, none)).toEqual([])
    expect(l.ack(2, sv(doc), 3, none)).toHaveLength(1)
  })

  test('a transaction that changes nothing is not an action', () => {
    const doc = new Y.Doc()
    const l = ledger()
    expect(edit(l, doc, () => {})).toBeNull()
    expect(l.count).toBe(0)
  })

  test('a sync step 2 carries every delete not yet sent on that connection', () => {
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'abcdef')
    const l = ledger()
    edit(l, doc, () => doc.getText('t').delete(0, 1)) // offline, before connecting
    l.clearLatest()
    l.tick(5000)
    edit(l, doc, () => doc.getText('t').delete(0, 1)) // sent as an update, frame 1 of connection 7
    l.sentLatest(7, 1)
    l.clearLatest()
    l.sentAll(7, 2) // the step 2 (frame 2) carries the offline one
    expect(l.ack(7, new Map(), 1, none)).toHaveLength(1)
    expect(l.ack(7, new Map(), 2, none)).toHaveLength(1)
  })

  test('stored forms survive a restart; an action stored again after its ack is not pending', () => {
    const doc = new Y.Doc()
    const l = ledger()
    edit(l, doc, () => doc.getMap('m').set('a', 1))
    l.tick(5000)
    edit(l, doc, () => doc.getMap('m').delete('a'))
    const write = l.takeWrite()
    expect(write.put).toHaveLength(2)
    expect(l.dirty).toBe(false)
    const restored = ledger()
    restored.restore(new Map(write.put), [], null, null)
    expect(restored.count).toBe(2)
    expect(restored.ack(1, sv(doc), null, new Uint8Array([1]))).toHaveLength(1) // the set; the delete needs a frame
    restored.sentAll(1, 1)
    expect(restored.ack(1, sv(doc), 1, new Uint8Array([1]))).toHaveLength(1)
    expect(restored.takeWrite().del).toHaveLength(2)
    // A tab that wrote the set again after the relay acked it: covered by the stored acked vector.
    const late = ledger()
    late.restore(new Map(write.put.slice(0, 1)), [], null, sv(doc))
    expect(late.count).toBe(0)
  })

  test('the leader tracks another tab’s actions by id: extending one does not count it twice', () => {
    const doc = new Y.Doc()
    const tab = ledger()
    const leader = ledger()
    const t = doc.getText('t')
    let info = null as ReturnType<Ledger['local']>
    const handler = (_u: Uint8Array, _o: unknown, _d: Y.Doc, tr: Y.Transaction) => {
      info = tab.local({ before: tr.beforeState, after: tr.afterState, deletes: tr.deleteSet.clients.size > 0, target: changedKey(tr.changed) })
    }
    doc.on('update', handler)
    t.insert(0, 'a')
    leader.upsert(info!, true)
    t.insert(1, 'b')
    leader.upsert(info!, true)
    expect(leader.count).toBe(1)
    expect(leader.ack(1, sv(doc), null, none)).toEqual([info!.id])
  })
})
