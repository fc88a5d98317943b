import { describe, expect, test } from 'vitest'
import * as Y from 'yjs'
import { entryKey, fieldEntries, isConflict, parseEntryKey, readEntries, writeRegister } from '../src/register.js'
import { docs, syncAll } from './helpers.js'

const write = (doc: Y.Doc, value: unknown, actor?: string) =>
  doc.transact(() =>
    writeRegister(doc.getMap('e'), 'f', value as never, { client: doc.clientID, ...(actor ? { actor } : {}), now: () => 1000 + doc.clientID }),
  )
const entries = (doc: Y.Doc) => fieldEntries(doc.getMap('e'), 'f')
const values = (doc: Y.Doc) => entries(doc).map((e) => e.v)

describe('entry keys', () => {
  test('field@client round-trips; other keys are not entries', () => {
    expect(entryKey('url', 17)).toBe('url@17')
    expect(parseEntryKey('url@17')).toEqual({ field: 'url', client: 17 })
    expect(parseEntryKey('a@b@3')).toEqual({ field: 'a@b', client: 3 })
    expect(parseEntryKey('id')).toBeUndefined()
    expect(parseEntryKey('@3')).toBeUndefined()
    expect(parseEntryKey('url@x')).toBeUndefined()
    expect(parseEntryKey('url@1.5')).toBeUndefined()
  })
})

describe('multi-value register', () => {
  test('a write stores value, Lamport counter, actor and time under the writer key', () => {
    const [a] = docs(1, 7)
    expect(write(a!, 'x', 'ann')).toBe(true)
    expect(a!.getMap('e').toJSON()).toEqual({ 'f@7': { v: 'x', n: 1, a: 'ann', t: 1007 } })
  })

  test('rewriting the same single value writes nothing', () => {
    const [a] = docs(1)
    write(a!, { k: [1, 2] })
    let updates = 0
    a!.on('update', () => updates++)
    expect(write(a!, { k: [1, 2] })).toBe(false)
    expect(updates).toBe(0)
  })

  test('sequential writes on two replicas replace each other: one entry, no conflict', () => {
    const [a, b] = docs(2)
    write(a!, 'one')
    syncAll(a!, b!)
    write(b!, 'two')
    syncAll(a!, b!)
    write(a!, 'three')
    syncAll(a!, b!)
    for (const d of [a!, b!]) {
      expect(values(d)).toEqual(['three'])
      expect(entries(d)[0]!.n).toBe(3)
    }
  })

  test('concurrent writes both survive; the same winner everywhere (higher counter, then higher client)', () => {
    const [a, b, c] = docs(3)
    write(a!, 'base')
    syncAll(a!, b!, c!)
    write(b!, 'from b')
    write(c!, 'from c')
    write(c!, 'from c again') // c's own sequential write: still one entry of c, counter 3
    syncAll(a!, b!, c!)
    for (const d of [a!, b!, c!]) {
      expect(values(d)).toEqual(['from c again', 'from b'])
      expect(isConflict(entries(d))).toBe(true)
    }
    // Same counters: the higher client id wins, whichever replica reads.
    const [x, y] = docs(2, 50)
    write(x!, 'x')
    write(y!, 'y')
    syncAll(x!, y!)
    expect(values(x!)).toEqual(['y', 'x'])
    expect(values(y!)).toEqual(['y', 'x'])
  })

  test('equal concurrent values are not a conflict', () => {
    const [a, b] = docs(2)
    write(a!, 'same')
    write(b!, 'same')
    syncAll(a!, b!)
    expect(entries(a!)).toHaveLength(2)
    expect(isConflict(entries(a!))).toBe(false)
  })

  test('a write that saw a conflict supersedes every alternative, and that closes it on the other replica', () => {
    const [a, b] = docs(2)
    write(a!, 'x')
    write(b!, 'y')
    syncAll(a!, b!)
    expect(isConflict(entries(b!))).toBe(true)
    write(b!, 'y') // the same value again still supersedes both
    syncAll(a!, b!)
    expect(values(a!)).toEqual(['y'])
    expect(values(b!)).toEqual(['y'])
  })

  test('a write that missed a concurrent resolution conflicts with it', () => {
    const [a, b, c] = docs(3)
    write(a!, 'a')
    write(b!, 'b')
    syncAll(a!, b!, c!)
    write(a!, 'resolved')
    write(c!, 'c')
    syncAll(a!, b!, c!)
    expect(values(b!).sort()).toEqual(['c', 'resolved'])
  })

  test('malformed entries are reported, ignored when reading and cleared by the next write', () => {
    const [a] = docs(1)
    const map = a!.getMap<unknown>('e')
    map.set('f@99', 'not an entry')
    map.set('f@98', { v: 'no counter' })
    map.set('g@5', { v: 1, n: 1 })
    map.set('unrelated', 5)
    const read = readEntries(map)
    expect([...read.malformed].sort()).toEqual(['f@98', 'f@99'])
    expect([...read.byField.keys()]).toEqual(['g'])
    write(a!, 'fine')
    expect([...map.keys()].sort()).toEqual([`f@${a!.clientID}`, 'g@5', 'unrelated'])
  })
})
