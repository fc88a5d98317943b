/**
 * Fuzzing a live relay with thousands of generated frames (fast-check): every malformed frame closes its
 * connection with 4400 (4413 when oversized) and stores nothing; frames that happen to be valid are served;
 * the relay never goes down and other connections keep syncing throughout.
 */
import fc from 'fast-check'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { RawClient, SyncClient, encodeSyncMessage, startTestRelay, type Closed, type TestRelay } from '../../packages/relay/test/helpers.js'

const MAX_MESSAGE_BYTES = 64 * 1024
const DOC = 'w1/fuzz'

let relay: TestRelay
let bystander: SyncClient
let token: string
let sample: Uint8Array[] // real updates to mutate

beforeAll(async () => {
  relay = await startTestRelay({ maxMessageBytes: MAX_MESSAGE_BYTES, maxDevices: 0 })
  token = await relay.token()
  bystander = await SyncClient.connect(relay.syncUrl(DOC, await relay.token({ sid: 'bystander' }), '&ack=1'))
  await bystander.whenSynced()
  const doc = bystander.doc
  sample = []
  doc.on('update', (u: Uint8Array) => sample.push(u))
  doc.getText('t').insert(0, 'hello world')
  doc.getMap('m').set('k', { nested: [1, 'two', null] })
  doc.getArray('a').push([1, 2, 3])
  doc.getText('t').delete(2, 3)
  doc.getXmlFragment('x').insert(0, [new Y.XmlElement('p')])
  sample.push(Y.encodeStateAsUpdate(doc))
  await bystander.waitForAckCovering()
})

afterAll(async () => {
  bystander.close()
  await relay.close()
})

const varUint = (n: number) => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, n)
  return encoding.toUint8Array(e)
}
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) out.set(p, (at += p.length) - p.length)
  return out
}
const bytes = (max = 64) => fc.uint8Array({ maxLength: max })

type Expect = 'refused' | 'too-large' | 'either'
interface Case {
  kind: string
  frame: Uint8Array | string
  expect: Expect
}

const truncatedVarint = fc
  .tuple(fc.constantFrom([], [0], [0, 2], [1], [0, 1]), fc.integer({ min: 1, max: 10 }))
  .map(([prefix, n]) => ({ kind: 'truncated varint', frame: concat(new Uint8Array(prefix), new Uint8Array(n).fill(0x80)), expect: 'refused' as const }))

const absurdLength = fc
  .tuple(fc.constantFrom([0, 0], [0, 1], [0, 2], [1]), fc.integer({ min: 1000, max: Number.MAX_SAFE_INTEGER }), bytes(32))
  .map(([prefix, len, tail]) => ({ kind: 'absurd length', frame: concat(new Uint8Array(prefix), varUint(len), tail), expect: 'refused' as const }))

const unknownType = fc
  .tuple(fc.oneof(fc.constant(2), fc.integer({ min: 4, max: 1_000_000 })), bytes(32))
  .map(([type, tail]) => ({ kind: 'unknown message type', frame: concat(varUint(type), tail), expect: 'refused' as const }))

const unknownSyncType = fc
  .tuple(fc.integer({ min: 3, max: 100_000 }), bytes(16))
  .map(([sub, payload]) => ({ kind: 'unknown sync type', frame: concat(varUint(0), varUint(sub), varUint(payload.length), payload), expect: 'refused' as const }))

const trailing = fc
  .tuple(fc.integer({ min: 0, max: 1000 }), fc.uint8Array({ minLength: 1, maxLength: 16 }))
  .map(([i, tail]) => ({ kind: 'trailing bytes', frame: concat(encodeSyncMessage(2, sample[i % sample.length]), tail), expect: 'refused' as const }))

const emptyOrText = fc.oneof(
  fc.constant({ kind: 'empty frame', frame: new Uint8Array(0), expect: 'refused' as const }),
  fc.string({ maxLength: 40 }).map((s) => ({ kind: 'text frame', frame: s, expect: 'refused' as const })),
)

const badAwareness = fc
  .tuple(fc.integer({ min: 0, max: 2 ** 31 }), fc.string({ maxLength: 20 }).filter((s) => {
    try {
      JSON.parse(s)
      return false
    } catch {
      return true
    }
  }))
  .map(([client, state]) => {
    const e = encoding.createEncoder()
    encoding.writeVarUint(e, 1)
    encoding.writeVarUint(e, client)
    encoding.writeVarUint(e, 1)
    encoding.writeVarString(e, state)
    const update = encoding.toUint8Array(e)
    return { kind: 'invalid awareness', frame: concat(varUint(1), varUint(update.length), update), expect: 'refused' as const }
  })

const oversized = fc
  .tuple(fc.integer({ min: MAX_MESSAGE_BYTES + 1, max: MAX_MESSAGE_BYTES * 3 }), fc.integer({ min: 0, max: 255 }))
  .map(([size, fill]) => ({ kind: 'oversized', frame: new Uint8Array(size).fill(fill), expect: 'too-large' as const }))

/** A real update, mutated (bytes changed, cut, or inserted), correctly framed: may or may not be valid. */
const mutatedUpdate = fc
  .tuple(
    fc.integer({ min: 0, max: 1000 }),
    fc.constantFrom(1, 2),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'cut', 'insert')), { minLength: 1, maxLength: 4 }),
  )
  .map(([i, syncType, mutations]) => {
    let u = Array.from(sample[i % sample.length])
    for (const [at, value, op] of mutations) {
      const pos = u.length === 0 ? 0 : at % u.length
      if (op === 'set') u[pos] = value
      else if (op === 'cut') u = u.slice(0, pos)
      else u.splice(pos, 0, value)
    }
    return { kind: 'mutated update', frame: encodeSyncMessage(syncType, new Uint8Array(u)), expect: 'either' as const }
  })

const randomBytes = bytes(128).map((b) => ({ kind: 'random bytes', frame: b, expect: 'either' as const }))

const validUpdate = fc.string({ minLength: 1, maxLength: 20 }).map((s) => {
  const d = new Y.Doc()
  d.getMap('fuzz-valid').set(s, s)
  return { kind: 'valid update', frame: encodeSyncMessage(2, Y.encodeStateAsUpdate(d)), expect: 'either' as const }
})

const anyCase: fc.Arbitrary<Case> = fc.oneof(
  { arbitrary: truncatedVarint, weight: 2 },
  { arbitrary: absurdLength, weight: 2 },
  { arbitrary: unknownType, weight: 2 },
  { arbitrary: unknownSyncType, weight: 1 },
  { arbitrary: trailing, weight: 1 },
  { arbitrary: emptyOrText, weight: 1 },
  { arbitrary: badAwareness, weight: 1 },
  { arbitrary: oversized, weight: 1 },
  { arbitrary: mutatedUpdate, weight: 6 },
  { arbitrary: randomBytes, weight: 3 },
  { arbitrary: validUpdate, weight: 1 },
)

/** Send `frame` on a fresh connection, then a sync step 1 probe: accepted if the probe is answered. */
async function fire(frame: Uint8Array | string): Promise<Closed | 'accepted'> {
  const client = await RawClient.connect(relay.syncUrl(DOC, token))
  client.send(frame)
  client.send(encodeSyncMessage(0, new Uint8Array([0])))
  const answered = client.next((f) => f[0] === 0 && f[1] === 1, 5000).then(
    () => 'accepted' as const,
    () => null,
  )
  const outcome = await Promise.race([answered, client.closed])
  if (outcome === 'accepted') {
    client.close()
    await client.closed
    return 'accepted'
  }
  if (outcome === null) throw new Error('neither answered nor closed')
  return outcome
}

it('survives thousands of generated frames: malformed → 4400/4413 and nothing stored; valid → served', async () => {
  const counts = new Map<string, { refused: number; accepted: number }>()
  let frames = 0
  await fc.assert(
    fc.asyncProperty(fc.array(anyCase, { minLength: 25, maxLength: 25 }), async (cases) => {
      const committedBefore = relay.running.relay.metrics.updatesCommitted.get()
      const outcomes = await Promise.all(cases.map((c) => fire(c.frame)))
      await relay.running.relay.flush()
      cases.forEach((c, i) => {
        const outcome = outcomes[i]
        const tally = counts.get(c.kind) ?? { refused: 0, accepted: 0 }
        counts.set(c.kind, tally)
        frames++
        if (outcome === 'accepted') {
          tally.accepted++
          expect(c.expect, `${c.kind} accepted`).toBe('either')
        } else {
          tally.refused++
          expect([4400, 4413], `${c.kind}: ${JSON.stringify(outcome)}`).toContain(outcome.code)
          if (c.expect === 'refused') expect(outcome.code, c.kind).toBe(4400)
          if (c.expect === 'too-large') expect(outcome.code, c.kind).toBe(4413)
        }
      })
      // Only frames that were accepted can have changed what is stored.
      if (outcomes.every((o) => o !== 'accepted')) {
        expect(relay.running.relay.metrics.updatesCommitted.get()).toBe(committedBefore)
      }
      // The bystander is still connected and its writes are still committed and acked.
      expect(bystander.raw.socket.readyState).toBe(bystander.raw.socket.OPEN)
      bystander.doc.getArray('heartbeat').push([frames])
      await bystander.waitForAckCovering()
    }),
    { numRuns: 100 },
  )
  expect(frames).toBeGreaterThanOrEqual(2500)
  // Every category was exercised, and the "either" ones produced both outcomes overall.
  for (const kind of ['truncated varint', 'absurd length', 'unknown message type', 'oversized', 'mutated update', 'trailing bytes']) {
    expect(counts.get(kind)?.refused, kind).toBeGreaterThan(0)
  }
  expect(counts.get('valid update')?.accepted).toBeGreaterThan(0)

  // The relay's doc, storage, and a fresh reader all agree with the bystander.
  const reader = await SyncClient.connect(relay.syncUrl(DOC, await relay.token({ sid: 'reader' })))
  await reader.whenSynced()
  const stored = await relay.storedDoc(DOC)
  expect(reader.doc.getText('t').toString()).toBe(bystander.doc.getText('t').toString())
  expect(stored.getArray('heartbeat').toJSON()).toEqual(bystander.doc.getArray('heartbeat').toJSON())
  expect(Y.encodeStateVector(stored)).toEqual(Y.encodeStateVector(reader.doc))
  reader.close()
}, 60_000)
