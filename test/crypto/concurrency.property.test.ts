/**
 * Concurrent keyring changes by several admins (fast-check): random adds, removals, role changes and rotations
 * on three replicas (the owner and two admins) that sync at random moments, so that records are made without
 * seeing each other. Then, on every replica and on fresh devices fed the records in random orders:
 * - replicas agree: the same members, roles, removals and current generation;
 * - a removal is never undone by an add that had not seen it; when such an add exists, a notice says so;
 * - nobody outside the members (a removed account above all) holds the current generation, and every holder
 *   holds it under its current key: a removed member cannot read what is written after its removal;
 * - the owner stays the only owner; the current generation comes from an admin or the owner.
 * Run counts: APISYNC_PROPERTY_RUNS (default 25 here; `APISYNC_PROPERTY_RUNS=500 npx vitest run <this file>`).
 */
import fc from 'fast-check'
import * as Y from 'yjs'
import { beforeAll, expect, test } from 'vitest'
import {
  type ChainState,
  type Keyring,
  type ParsedRecord,
  addMember,
  evaluateChain,
  initWorkspaceKeys,
  memoryTrustStore,
  parseRecord,
  publicKeysOf,
  removeMember,
  rotateKeys,
  setRole,
} from '@apisync/crypto'
import { type Device, type Person, WS, craft, device, person, putRecord, sync } from './helpers.js'

const RUNS = Number(process.env.APISYNC_PROPERTY_RUNS ?? 25)
const OTHERS = ['dan', 'eve', 'bob', 'cat'] as const
let people: Map<string, Person>

beforeAll(async () => {
  people = new Map()
  for (const id of ['ann', 'bob', 'cat', 'dan', 'eve']) people.set(id, await person(id))
})

type Step =
  | { t: 'add'; by: number; who: (typeof OTHERS)[number]; role: 'admin' | 'member' }
  | { t: 'remove'; by: number; who: (typeof OTHERS)[number] }
  | { t: 'role'; by: number; who: (typeof OTHERS)[number]; role: 'admin' | 'member' }
  | { t: 'rotate'; by: number }
  | { t: 'removeOnly'; by: number; who: (typeof OTHERS)[number] }
  | { t: 'sync'; a: number; b: number }

const by = fc.nat({ max: 2 })
const who = fc.constantFrom(...OTHERS)
const role = fc.constantFrom('admin' as const, 'member' as const)
const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ t: fc.constant('add' as const), by, who, role }), weight: 3 },
  { arbitrary: fc.record({ t: fc.constant('remove' as const), by, who }), weight: 3 },
  { arbitrary: fc.record({ t: fc.constant('role' as const), by, who, role }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('rotate' as const), by }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('sync' as const), a: by, b: by }), weight: 2 },
  // A removal with no new generation after it (a client that stopped half way): the stale rules must hold.
  { arbitrary: fc.record({ t: fc.constant('removeOnly' as const), by, who }), weight: 1 },
)

/** Every record in a manifest, parsed. */
const recordsOf = async (d: Device): Promise<ParsedRecord[]> => {
  const snap = d.manifest.snapshot()
  return Promise.all([...snap.members, ...snap.keyWraps].filter((r) => r.jws).map((r) => parseRecord(r.jws)))
}

/** Ancestors by record id, computed here independently of chain.ts. */
const ancestry = (records: readonly ParsedRecord[]) => {
  const byId = new Map(records.map((r) => [r.id, r]))
  const memo = new Map<string, Set<string>>()
  const anc = (id: string): Set<string> => {
    let s = memo.get(id)
    if (s) return s
    s = new Set()
    for (const p of byId.get(id)?.payload.prev ?? []) {
      s.add(p)
      for (const q of anc(p)) s.add(q)
    }
    memo.set(id, s)
    return s
  }
  return anc
}

const summary = (ring: Keyring) => ({
  members: ring.members.map((m) => `${m.accountId}:${m.role}:${m.safetyCode}`),
  removed: ring.removed,
  currentKid: ring.currentKid,
})

const chainSummary = (c: ChainState) => ({
  members: [...c.members.values()].map((m) => `${m.accountId}:${m.role}`).sort(),
  removed: [...c.removed].sort(),
  currentKid: c.currentKid,
  valid: [...c.valid].sort(),
})

test('concurrent keyring changes by several admins resolve the same everywhere, and removals hold', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 10 }), fc.nat(), async (steps, seed) => {
      const ann = people.get('ann')!
      const owner = device(ann)
      await initWorkspaceKeys(owner.scope)
      await addMember(owner.scope, { accountId: 'bob', name: 'bob', keys: publicKeysOf(people.get('bob')!.keys) }, 'admin')
      await addMember(owner.scope, { accountId: 'cat', name: 'cat', keys: publicKeysOf(people.get('cat')!.keys) }, 'admin')
      const replicas = [owner, device(people.get('bob')!, new Y.Doc()), device(people.get('cat')!, new Y.Doc())]
      sync(...replicas.map((r) => r.doc))

      for (const s of steps) {
        if (s.t === 'sync') {
          sync(replicas[s.a]!.doc, replicas[s.b]!.doc)
          continue
        }
        const r = replicas[s.by]!
        const p = (id: string) => people.get(id)!
        // Refusals (a role that does not allow it, as this replica sees it) are part of the game.
        await (async () => {
          if (s.t === 'add') await addMember(r.scope, { accountId: s.who, name: s.who, keys: publicKeysOf(p(s.who).keys) }, s.role)
          else if (s.t === 'remove') await removeMember(r.scope, s.who)
          else if (s.t === 'role') await setRole(r.scope, s.who, s.role)
          else if (s.t === 'removeOnly') {
            const records = await recordsOf(r)
            const root = records.find((x) => x.payload.t === 'genesis')!
            const heads = evaluateChain({ records, workspaceId: WS, rootId: root.id, signed: () => true }).heads
            putRecord(r.manifest, await craft({ t: 'remove', ws: WS, by: r.scope.me.accountId, at: Date.now(), prev: [...heads], sub: s.who }, p(r.scope.me.accountId).keys.signing))
          } else await rotateKeys(r.scope)
        })().catch((e: unknown) => {
          if ((e as { code?: string }).code !== 'NOT_ALLOWED') throw e
        })
      }
      sync(...replicas.map((r) => r.doc))

      // Agreement: each replica, and fresh devices of every person fed the records in another order.
      const rings = await Promise.all(replicas.map((r) => r.ring()))
      for (const ring of rings) expect(summary(ring)).toEqual(summary(rings[0]!))
      const records = await recordsOf(owner)
      const rootId = records.find((r) => r.payload.t === 'genesis')!.id
      const signed = () => true // signatures were all made by the real API: checked by the rings above
      const base = evaluateChain({ records, workspaceId: WS, rootId, signed })
      const shuffled = fc.sample(fc.shuffledSubarray(records, { minLength: records.length, maxLength: records.length }), { seed, numRuns: 2 })
      for (const order of shuffled) expect(chainSummary(evaluateChain({ records: order, workspaceId: WS, rootId, signed }))).toEqual(chainSummary(base))
      const fresh = device(ann, new Y.Doc(), WS, memoryTrustStore())
      for (const r of [...replicas].reverse()) Y.applyUpdate(fresh.doc, Y.encodeStateAsUpdate(r.doc))
      expect(summary(await fresh.ring())).toEqual(summary(rings[0]!))

      const ring = rings[0]!
      const anc = ancestry(records)
      const valid = records.filter((r) => base.valid.has(r.id))
      // Removals hold unless an add saw them; an add that did not see one is surfaced.
      const members = new Set(ring.members.map((m) => m.accountId))
      for (const x of ['bob', 'cat', 'dan', 'eve']) {
        const ops = valid.filter((r) => (r.payload.t === 'member' || r.payload.t === 'remove') && r.payload.sub === x)
        const removals = ops.filter((r) => r.payload.t === 'remove')
        if (members.has(x)) for (const rm of removals) expect(ops.some((r) => r.payload.t === 'member' && anc(r.id).has(rm.id))).toBe(true)
        const latest = ops.filter((r) => !ops.some((o) => anc(o.id).has(r.id)))
        if (latest.some((r) => r.payload.t === 'remove')) {
          expect(members.has(x)).toBe(false)
          if (latest.some((r) => r.payload.t === 'member'))
            expect(ring.notices.some((n) => n.code === 'ADD_REMOVE_CONFLICT' && n.accountId === x)).toBe(true)
        }
      }
      // A record whose author was removed (or demoted, where it needed an admin) by a record it had not seen does not count.
      for (const r of valid) {
        const x = r.payload.by
        if (r.payload.t === 'genesis' || r.payload.t === 'keys' || ((r.payload.t === 'member' || r.payload.t === 'remove') && r.payload.sub === x)) continue
        const lowered = valid.filter(
          (o) => (o.payload.t === 'remove' || (o.payload.t === 'member' && o.payload.role === 'member')) && o.payload.sub === x && !anc(r.id).has(o.id) && !anc(o.id).has(r.id),
        )
        expect(lowered).toEqual([])
      }
      // Only members hold the current generation, under their current keys.
      if (base.currentKid) {
        for (const x of ['ann', 'bob', 'cat', 'dan', 'eve'])
          if (base.wrapsFor(x).has(base.currentKid)) expect(base.members.has(x)).toBe(true)
        const gen = base.generations.get(base.currentKid)!
        expect(gen.stale).toBeUndefined()
        const author = valid.find((r) => r.id === gen.recordId)!
        expect(author.payload.t).toBe('generation')
        // Its author was an admin or the owner when it was made.
        const st = evaluateChain({ records: records.filter((r) => r.id === author.id || anc(author.id).has(r.id)), workspaceId: WS, rootId, signed })
        expect(['owner', 'admin']).toContain(st.members.get(author.payload.by)?.role)
        // And what is sealed now is readable by members holding it, and by nobody removed.
        for (const x of ring.removed) expect(base.wrapsFor(x).has(base.currentKid)).toBe(false)
      }
      expect(ring.members.filter((m) => m.role === 'owner').map((m) => m.accountId)).toEqual(['ann'])
      expect(ring.members.map((m) => m.accountId)).toContain('ann')
    }),
    { numRuns: RUNS },
  )
}, 600_000)
