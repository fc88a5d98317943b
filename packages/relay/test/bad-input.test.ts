/** Specific bad inputs at a live relay, each with its code, and what it must not disturb. */
import * as Y from 'yjs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RawClient, SyncClient, encodeSyncMessage, eventually, startTestRelay, type TestRelay } from './helpers.js'

let relay: TestRelay
beforeEach(async () => {
  relay = await startTestRelay()
})
afterEach(async () => {
  await relay.close()
})

/**
 * A real update with one byte changed: Y.decodeUpdate parses it, but Yjs throws while integrating it, after
 * it has already inserted "he" (client 7) into the doc. Found by mutating updates.
 */
const HALF_VALID_UPDATE = new Uint8Array([
  1, 4, 7, 0, 4, 1, 1, 116, 2, 104, 101, 129, 7, 1, 3, 132, 7, 75, 6, 32, 119, 111, 114, 108, 100, 8, 1, 1, 97, 3, 125, 1, 125, 2,
  125, 3, 1, 7, 1, 2, 3,
])

describe('bad input', () => {
  it('an update that Yjs rejects halfway is refused (4400): not broadcast, not stored, and the doc is rebuilt', async () => {
    expect(() => Y.decodeUpdate(HALF_VALID_UPDATE)).not.toThrow()
    const probe = new Y.Doc()
    expect(() => Y.applyUpdate(probe, HALF_VALID_UPDATE)).toThrow()
    expect(probe.getText('t').toString()).toBe('he') // what a naive relay would keep

    const bystander = await SyncClient.connect(relay.syncUrl('w1/doc', await relay.token({ sid: 'b' }), '&ack=1'))
    bystander.doc.getText('t').insert(0, 'safe')
    await bystander.waitForAckCovering()

    const attacker = await SyncClient.connect(relay.syncUrl('w1/doc', await relay.token({ sid: 'a' })))
    await attacker.whenSynced()
    attacker.raw.send(encodeSyncMessage(2, HALF_VALID_UPDATE))
    expect((await attacker.raw.closed).code).toBe(4400)

    bystander.doc.getText('t').insert(4, '!')
    await bystander.waitForAckCovering()
    expect(bystander.doc.getText('t').toString()).toBe('safe!')
    const stored = await relay.storedDoc('w1/doc')
    expect(stored.getText('t').toString()).toBe('safe!')
    expect(Y.decodeStateVector(Y.encodeStateVector(stored)).has(7)).toBe(false)
    const reader = await SyncClient.connect(relay.syncUrl('w1/doc', await relay.token({ sid: 'r' })))
    await reader.whenSynced()
    expect(reader.doc.getText('t').toString()).toBe('safe!')
    expect(relay.logs.some((l) => l.includes('"doc.reload"'))).toBe(true)
    for (const c of [bystander, reader]) c.close()
  })

  it('frames sent while a doc is being rebuilt wait and are then applied in order', async () => {
    const writer = await SyncClient.connect(relay.syncUrl('w1/order', await relay.token({ sid: 'w' }), '&ack=1'))
    await writer.whenSynced()
    const attacker = await RawClient.connect(relay.syncUrl('w1/order', await relay.token({ sid: 'a' })))
    attacker.send(encodeSyncMessage(2, HALF_VALID_UPDATE))
    const text = writer.doc.getText('t')
    for (let i = 0; i < 20; i++) text.insert(text.length, String(i % 10))
    await writer.waitForAckCovering()
    expect((await attacker.closed).code).toBe(4400)
    expect((await relay.storedDoc('w1/order')).getText('t').toString()).toBe('01234567890123456789')
    writer.close()
  })

  it('changes completed by a writer’s update (others’ pending deletions) reach that writer too', async () => {
    const writerDoc = new Y.Doc()
    writerDoc.clientID = 1000
    const writer = await SyncClient.connect(relay.syncUrl('w1/pending', await relay.token({ sid: 'w' }), '&ack=1'), writerDoc)
    await writer.whenSynced()
    // Another editor deletes clocks 0..4 of client 1000 before they exist: the relay keeps it pending.
    const deleter = await SyncClient.connect(relay.syncUrl('w1/pending', await relay.token({ sid: 'd' }), '&ack=1'))
    await deleter.whenSynced()
    deleter.raw.send(encodeSyncMessage(2, new Uint8Array([0, 1, 0xe8, 0x07, 1, 0, 5])))
    await eventually(() => deleter.acks.some((a) => a.committedMessages === 2), 5000, 'pending delete acked')
    writerDoc.getText('t').insert(0, 'hello')
    await writer.waitForAckCovering()
    await eventually(() => writerDoc.getText('t').toString() === '', 5000, 'writer receives the deletion')
    expect((await relay.storedDoc('w1/pending')).getText('t').toString()).toBe('')
    writer.close()
    deleter.close()
  })

  it('pending structs that reuse known ids (other content, unknown parent) hide nothing from readers or storage', async () => {
    const writerDoc = new Y.Doc()
    writerDoc.clientID = 1
    const writer = await SyncClient.connect(relay.syncUrl('w1/reuse', await relay.token({ sid: 'w' }), '&ack=1'), writerDoc)
    writerDoc.getText('t').insert(0, 'hello world')
    writerDoc.getText('t').delete(2, 3)
    await writer.waitForAckCovering()

    // Client 1's ids again, with other content, inside a type of client 999 that the relay never saw (so
    // Yjs keeps them pending), plus a struct of a higher client id, which makes Yjs' merge of the doc's
    // state with its pending structs prefer these over the real ones (found by the fuzz test).
    const forged = new Y.Doc()
    forged.clientID = 999
    const [a, b] = [new Y.Text(), new Y.Text()]
    forged.getMap('m').set('a', a)
    forged.getMap('m').set('b', b)
    const known = Y.encodeStateVector(forged)
    forged.clientID = 1
    a.insert(0, 'HELLO WORLD')
    forged.clientID = 2000
    b.insert(0, '!')
    const attacker = await SyncClient.connect(relay.syncUrl('w1/reuse', await relay.token({ sid: 'a' }), '&ack=1'))
    await attacker.whenSynced()
    attacker.raw.send(encodeSyncMessage(2, Y.encodeStateAsUpdate(forged, known)))
    await eventually(() => attacker.acks.some((ack) => ack.committedMessages === 2), 5000, 'forged update handled')
    writerDoc.getText('t').insert(8, '!')
    await writer.waitForAckCovering()

    const reader = await SyncClient.connect(relay.syncUrl('w1/reuse', await relay.token({ sid: 'r' })))
    await reader.whenSynced()
    expect(reader.doc.getText('t').toString()).toBe('he world!')
    expect((await relay.storedDoc('w1/reuse')).getText('t').toString()).toBe('he world!')
    for (const c of [writer, attacker, reader]) c.close()
  })

  it('a text frame, an empty frame, a truncated varint, an absurd length and trailing bytes each close with 4400', async () => {
    const token = await relay.token()
    const frames: Array<Uint8Array | string> = [
      'hello',
      new Uint8Array(0),
      new Uint8Array([0x80, 0x80]),
      new Uint8Array([0, 2, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2]),
      new Uint8Array([...encodeSyncMessage(0, new Uint8Array([0])), 0]),
      new Uint8Array([100, 1, 0]), // the ack is relay → client only
      new Uint8Array([2, 0, 0]), // so is permission-denied
    ]
    for (const frame of frames) {
      const c = await RawClient.connect(relay.syncUrl('w1/bad', token))
      c.send(frame)
      expect((await c.closed).code).toBe(4400)
    }
    expect(await relay.storedRows('w1/bad')).toBe(0)
  })

  it('a sync step 1 with a malformed state vector closes with 4400', async () => {
    const c = await RawClient.connect(relay.syncUrl('w1/sv', await relay.token()))
    c.send(encodeSyncMessage(0, new Uint8Array([5, 1])))
    expect((await c.closed).code).toBe(4400)
  })

  it('a client that never answers pings is dropped; one that does stays', async () => {
    await relay.close()
    relay = await startTestRelay({ pingIntervalMs: 100 })
    const healthy = await RawClient.connect(relay.syncUrl('w1/p', await relay.token({ sid: 'h' })))
    const silent = await RawClient.connect(relay.syncUrl('w1/p', await relay.token({ sid: 's' })), { autoPong: false })
    await eventually(() => relay.running.relay.stats().connections === 1, 3000, 'silent dropped')
    expect(healthy.socket.readyState).toBe(healthy.socket.OPEN)
    healthy.close()
    silent.terminate()
  })
})
