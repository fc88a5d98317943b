/**
 * What the demo's Trash lists (examples/web/src/trash-entries.ts), from a real CollectionModel: deletions of
 * the last 30 days by the time the deleter recorded, newest first, each folder with what its deletion took
 * along; an item deleted by itself before its folder was deleted stays an entry of its own.
 */
import { CollectionModel } from '@apisync/model'
import { describe, expect, test } from 'vitest'
import * as Y from 'yjs'
import { TRASH_DAYS, trashEntries } from '../../examples/web/src/trash-entries.js'

const DAY = 86_400_000

describe('the Trash of the demo', () => {
  test('lists the last 30 days of deletions, newest first, each folder with what it took along', () => {
    let clock = Date.UTC(2025, 0, 1)
    const model = CollectionModel.create(new Y.Doc(), { id: 'col-1', name: 'Shop' }, { actor: 'ann', device: 'Laptop', now: () => clock })
    const auth = model.createFolder({ name: 'Auth' })
    const inner = model.createFolder({ name: 'Tokens' }, { parent: auth })
    model.createRequest({ name: 'Login' }, { parent: auth })
    model.createRequest({ name: 'Refresh' }, { parent: inner })
    const lone = model.createRequest({ name: 'Old' }, { parent: auth })
    const health = model.createRequest({ name: 'Health' })

    model.delete(lone) // day 0, by itself
    clock += 10 * DAY
    model.delete(auth) // day 10, with Tokens, Login, Refresh
    clock += 5 * DAY
    model.delete(health) // day 15

    const at = (days: number) => Date.UTC(2025, 0, 1) + days * DAY
    const names = (now: number) => trashEntries(model.deletedItems(), now).map((e) => [e.item.name, e.along.map((x) => x.name).sort(), e.item.deletedBy.device])
    expect(names(at(16))).toEqual([
      ['Health', [], 'Laptop'],
      ['Auth', ['Login', 'Refresh', 'Tokens'], 'Laptop'],
      ['Old', [], 'Laptop'],
    ])
    // Old was deleted on day 0: gone from the list after 30 days, the others stay until theirs.
    expect(names(at(TRASH_DAYS) + 1).map((e) => e[0])).toEqual(['Health', 'Auth'])
    expect(names(at(10 + TRASH_DAYS) + 1).map((e) => e[0])).toEqual(['Health'])
    expect(names(at(15 + TRASH_DAYS) + 1)).toEqual([])

    // Restored: out of the Trash.
    model.restore(auth)
    expect(names(at(16)).map((e) => e[0])).toEqual(['Health', 'Old'])
  })
})
