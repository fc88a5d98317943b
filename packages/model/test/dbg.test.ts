import { test } from 'vitest'
import { CollectionModel } from '@apisync/model'
import { docs, syncAll } from './helpers'
test('dbg', () => {
  const [a, b] = docs(2)
  const ma = CollectionModel.create(a!, { name: 'S' })
  syncAll(a!, b!)
  ma.clearUndoHistory()
  const mb = CollectionModel.open(b!)
  const f = ma.createFolder({ name: 'F' })
  syncAll(a!, b!)
  const inside = mb.createRequest({ name: 'inside' }, { parent: f })
  ma.undo()
  syncAll(a!, b!)
  console.log(JSON.stringify(ma.conflicts(), null, 1), f, inside)
})
