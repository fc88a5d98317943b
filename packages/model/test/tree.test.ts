import { describe, expect, test } from 'vitest'
import type * as Y from 'yjs'
import { CollectionModel, type CollectionSnapshot, type ItemSnapshot } from '@apisync/model'
import { docs, expectRefused, fork, syncAll } from './helpers.js'

/** `name(child, child…)` rendering of a tree, for readable assertions. */
const shape = (items: readonly ItemSnapshot[]): string =>
  items.map((i) => (i.kind === 'folder' ? `${i.name}(${shape(i.items)})` : i.name)).join(' ')

/** Every live item once, no cycle: walks the snapshot and checks parents agree with parentId(). */
const expectValidTree = (m: CollectionModel) => {
  const seen = new Set<string>()
  const walk = (items: readonly ItemSnapshot[], parent: string | null) => {
    for (const i of items) {
      expect(seen.has(i.id)).toBe(false)
      seen.add(i.id)
      expect(m.parentId(i.id)).toBe(parent)
      if (i.kind === 'folder') walk(i.items, i.id)
    }
  }
  walk(m.snapshot().items, null)
  return seen
}

const replicas = (n: number, seed: (m: CollectionModel) => void) => {
  const ds = docs(n)
  const first = CollectionModel.create(ds[0]!, { name: 'S' })
  seed(first)
  syncAll(...ds)
  const models = ds.map((d, i) => (i === 0 ? first : CollectionModel.open(d, { actor: `u${i}` })))
  return { ds, models }
}

describe('moves', () => {
  test('move into a folder, between siblings, and back to the top level', () => {
    const [a] = docs(1)
    const m = CollectionModel.create(a!, { name: 'S' })
    const f = m.createFolder({ name: 'F' })
    const r1 = m.createRequest({ name: 'r1' })
    const r2 = m.createRequest({ name: 'r2' })
    const r3 = m.createRequest({ name: 'r3' })
    m.move(r3, { parent: f })
    m.move(r1, { parent: f, placement: { before: r3 } })
    expect(shape(m.snapshot().items)).toBe('F(r1 r3) r2')
    m.move(r2, { parent: f, placement: { after: r1 } })
    expect(shape(m.snapshot().items)).toBe('F(r1 r2 r3)')
    m.move(r3, { parent: f, placement: { index: 0 } })
    expect(shape(m.snapshot().items)).toBe('F(r3 r1 r2)')
    m.move(r1, { parent: null, placement: { index: 0 } })
    expect(shape(m.snapshot().items)).toBe('r1 F(r3 r2)')
    expect(shape(CollectionModel.open(fork(a!, 7)).snapshot().items)).toBe('r1 F(r3 r2)')
  })

  test('invalid moves throw with a code and write nothing', () => {
    const [a] = docs(1)
    const m = CollectionModel.create(a!, { name: 'S' })
    const f = m.createFolder({ name: 'F' })
    const g = m.createFolder({ name: 'G' }, { parent: f })
    const r = m.createRequest({ name: 'r' }, { parent: g })
    const gone = m.createFolder({ name: 'gone' })
    m.delete(gone)
    expectRefused(a!, () => m.move(f, { parent: f }), 'CYCLE', `folder:${f}`)
    expectRefused(a!, () => m.move(f, { parent: g }), 'CYCLE')
    expectRefused(a!, () => m.move(g, { parent: r }), 'WRONG_KIND')
    expectRefused(a!, () => m.move(g, { parent: 'missing' }), 'NOT_FOUND')
    expectRefused(a!, () => m.move(g, { parent: gone }), 'DELETED')
    expectRefused(a!, () => m.move('missing', { parent: null }), 'NOT_FOUND')
    expectRefused(a!, () => m.move(r, { parent: f, placement: { before: 'missing' } }), 'NOT_FOUND')
    expectRefused(a!, () => m.move(r, { parent: f, placement: { index: -1 } }), 'INVALID_VALUE')
    expectRefused(a!, () => m.move(r, { parent: f, placement: { index: 1.5 } }), 'INVALID_VALUE')
    expectRefused(a!, () => m.createRequest({}, { parent: r }), 'WRONG_KIND')
    expectRefused(a!, () => m.createFolder({}, { parent: gone }), 'DELETED')
  })

  test('concurrent moves of one item: a position conflict, the same placement everywhere, resolvable', () => {
    let f = '', g = '', r = ''
    const { ds, models } = replicas(2, (m) => {
      f = m.createFolder({ name: 'F' })
      g = m.createFolder({ name: 'G' })
      r = m.createRequest({ name: 'r' })
    })
    const [ma, mb] = models as [CollectionModel, CollectionModel]
    ma.move(r, { parent: f })
    mb.move(r, { parent: g })
    syncAll(...ds)
    expect(ma.snapshot()).toEqual(mb.snapshot())
    const c = ma.conflicts()
    expect(c).toHaveLength(1)
    expect(c[0]).toMatchObject({ kind: 'value', entityId: r, field: 'position' })
    const loser = c[0]!.alternatives[1]!.value as { parent: string }
    mb.resolve(c[0]!.id, { pick: 1 })
    syncAll(...ds)
    expect(ma.conflicts()).toEqual([])
    expect(ma.parentId(r)).toBe(loser.parent)
    expect(mb.parentId(r)).toBe(loser.parent)
  })

  test('concurrent moves A into B and B into A: the same valid tree everywhere, no cycle', () => {
    let A = '', B = ''
    const { ds, models } = replicas(3, (m) => {
      A = m.createFolder({ name: 'A' })
      B = m.createFolder({ name: 'B' })
      m.createRequest({ name: 'ra' }, { parent: A })
      m.createRequest({ name: 'rb' }, { parent: B })
    })
    const [ma, mb, mc] = models as [CollectionModel, CollectionModel, CollectionModel]
    ma.move(A, { parent: B })
    mb.move(B, { parent: A })
    syncAll(...ds)
    for (const m of models) {
      expect(m.snapshot()).toEqual(mc.snapshot())
      expect(expectValidTree(m).size).toBe(4)
    }
    // One of the two moves stands, the other one is undone: both folders stay reachable.
    expect(['B(rb A(ra))', 'A(ra B(rb))']).toContain(shape(ma.snapshot().items))
    // The later edit may fix it: moving the winner out again makes the other move apply.
    const top = ma.snapshot().items[0]!.id
    const inner = top === A ? B : A
    ma.move(inner, { parent: null })
    syncAll(...ds)
    for (const m of models) expectValidTree(m)
    expect(ma.snapshot()).toEqual(mb.snapshot())
  })

  test('a three-way cycle is broken the same way on every replica', () => {
    let A = '', B = '', C = ''
    const { ds, models } = replicas(4, (m) => {
      A = m.createFolder({ name: 'A' })
      B = m.createFolder({ name: 'B' })
      C = m.createFolder({ name: 'C' })
    })
    models[0]!.move(A, { parent: B })
    models[1]!.move(B, { parent: C })
    models[2]!.move(C, { parent: A })
    syncAll(...ds)
    for (const m of models) {
      expect(m.snapshot()).toEqual(models[3]!.snapshot())
      expect(expectValidTree(m).size).toBe(3)
    }
  })

  test('two cycles broken at once give the same tree whatever order replicas learned the items in', () => {
    // X in F, G in Y; then concurrently X into Y, Y into X, G into F, F into G: two cycles, each one's latest
    // move leads back into the other cycle. Replicas that list the items in another order must still agree.
    const ds = docs(6)
    const [d1, d2] = ds as [Y.Doc, Y.Doc]
    const m1 = CollectionModel.create(d1, { name: 'S' })
    const F = m1.createFolder({ name: 'F' })
    const X = m1.createFolder({ name: 'X' }, { parent: F })
    syncAll(d1, d2)
    const m2 = CollectionModel.open(d2)
    const Yf = m2.createFolder({ name: 'Y' })
    const G = m2.createFolder({ name: 'G' }, { parent: Yf })
    m1.snapshot()
    m2.snapshot()
    syncAll(...ds)
    const [m3, m4, m5, m6] = ds.slice(2).map((d) => CollectionModel.open(d))
    // Equal counters: the higher client's move is the latest of each cycle, X's and G's, whose `from` lies
    // in the other cycle.
    m4!.move(X, { parent: Yf })
    m3!.move(Yf, { parent: X })
    m6!.move(G, { parent: F })
    m5!.move(F, { parent: G })
    syncAll(...ds)
    const late = CollectionModel.open(fork(ds[5]!, 77))
    const all = [m1, m2, m3!, m4!, m5!, m6!, late]
    for (const m of all) {
      expect(expectValidTree(m).size).toBe(4)
      expect(shape(m.snapshot().items)).toBe(shape(m1.snapshot().items))
      expect(m.snapshot()).toEqual(m1.snapshot())
    }
  })
})

describe('orphans: items added to a folder deleted concurrently', () => {
  const orphaned = (how: 'create' | 'move') => {
    let F = '', r = ''
    const { ds, models } = replicas(3, (m) => {
      F = m.createFolder({ name: 'F' })
      m.createRequest({ name: 'inside' }, { parent: F })
      if (how === 'move') r = m.createRequest({ name: 'outside' })
    })
    const [ma, mb] = models as [CollectionModel, CollectionModel]
    ma.delete(F)
    if (how === 'create') r = mb.createRequest({ name: 'new in F' }, { parent: F })
    else mb.move(r, { parent: F })
    syncAll(...ds)
    return { ds, models, F, r }
  }

  test.each(['create', 'move'] as const)('%s into a deleted folder: shown at the top level with an orphan conflict', (how) => {
    const { models, F, r } = orphaned(how)
    for (const m of models) {
      expect(m.snapshot().items.map((i) => i.id)).toEqual([r])
      expect(m.parentId(r)).toBeNull()
      const cs = m.conflicts()
      expect(cs).toHaveLength(1)
      expect(cs[0]).toMatchObject({ kind: 'orphan', entityId: r, field: 'position', choices: ['restore-parent', 'move-to-root', 'delete'] })
      expect(cs[0]!.alternatives[0]!.value).toBe(F)
      expect(m.snapshot()).toEqual(models[0]!.snapshot())
    }
  })

  test('restore-parent brings the folder back (with what it held) and puts the item in it, everywhere', () => {
    const { ds, models, F, r } = orphaned('create')
    const m = models[2]!
    m.resolve(m.conflicts()[0]!.id, 'restore-parent')
    syncAll(...ds)
    for (const x of models) {
      expect(x.conflicts()).toEqual([])
      expect(x.parentId(r)).toBe(F)
      expect(shape(x.snapshot().items)).toBe('F(inside new in F)')
    }
  })

  test('move-to-root keeps the folder deleted and the item at the top level, everywhere', () => {
    const { ds, models, F, r } = orphaned('move')
    models[1]!.resolve(models[1]!.conflicts()[0]!.id, 'move-to-root')
    syncAll(...ds)
    for (const x of models) {
      expect(x.conflicts()).toEqual([])
      expect(x.parentId(r)).toBeNull()
      expect(x.get(F)).toBeUndefined()
      expect(shape(x.snapshot().items)).toBe('outside')
    }
  })

  test('delete removes the item too, everywhere', () => {
    const { ds, models, r } = orphaned('create')
    models[0]!.resolve(models[0]!.conflicts()[0]!.id, 'delete')
    syncAll(...ds)
    for (const x of models) {
      expect(x.conflicts()).toEqual([])
      expect(x.get(r)).toBeUndefined()
      expect(x.snapshot().items).toEqual([])
    }
  })

  test('an orphan refuses other choices', () => {
    const { ds, models } = orphaned('create')
    const id = models[0]!.conflicts()[0]!.id
    expectRefused(ds[0]!, () => models[0]!.resolve(id, 'restore'), 'BAD_CHOICE')
    expectRefused(ds[0]!, () => models[0]!.resolve(id, { pick: 0 }), 'BAD_CHOICE')
  })

  test('restoring the folder by hand also closes the orphan conflict', () => {
    const { ds, models, F, r } = orphaned('create')
    models[0]!.restore(F)
    syncAll(...ds)
    for (const x of models) {
      expect(x.conflicts()).toEqual([])
      expect(x.parentId(r)).toBe(F)
    }
  })

  test('a subtree created in a deleted folder stays whole under the orphaned top', () => {
    let F = ''
    const { ds, models } = replicas(2, (m) => {
      F = m.createFolder({ name: 'F' })
    })
    models[0]!.delete(F)
    const g = models[1]!.createFolder({ name: 'G' }, { parent: F })
    models[1]!.createRequest({ name: 'r' }, { parent: g })
    syncAll(...ds)
    for (const x of models) {
      expect(shape(x.snapshot().items)).toBe('G(r)')
      expect(x.conflicts().map((c) => [c.kind, c.entityId])).toEqual([['orphan', g]])
    }
  })
})

describe('snapshot helpers', () => {
  test('get() returns the subtree, undefined for deleted or unknown ids', () => {
    const [a] = docs(1)
    const m = CollectionModel.create(a!, { name: 'S' })
    const f = m.createFolder({ name: 'F' })
    const r = m.createRequest({ name: 'r' }, { parent: f })
    expect(m.get(f)).toMatchObject({ kind: 'folder', items: [{ id: r }] })
    m.delete(r)
    expect(m.get(r)).toBeUndefined()
    expect(m.get('unknown')).toBeUndefined()
    const s: CollectionSnapshot = m.snapshot()
    expect(s.items).toEqual([m.get(f)])
  })
})
