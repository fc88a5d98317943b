import { expect, test } from 'vitest'
import { CollectionModel } from '@apisync/model'
import { docs, fork, syncAll } from '../packages/model/test/helpers'
test('smoke', () => {
  const [a] = docs(1)
  const ca = CollectionModel.create(a!, { name: 'Shop', description: 'hello' }, { actor: 'ann' })
  const f = ca.createFolder({ name: 'Auth' })
  const r = ca.createRequest({ name: 'Login', method: 'POST', url: { raw: 'https://x.test/:id/login?a=1&b=2' }, headers: [{ key: 'Accept', value: 'json' }] }, { parent: f })
  const s1 = ca.snapshot()
  console.log(JSON.stringify(s1, null, 1).slice(0, 3000))
  const b = fork(a!, 50)
  const cb = CollectionModel.open(b, { actor: 'bob' })
  ca.updateItem(r, { url: { raw: 'https://a.test' } })
  cb.updateItem(r, { url: { raw: 'https://b.test' } })
  syncAll(a!, b)
  console.log(ca.conflicts(), cb.conflicts())
  expect(ca.snapshot()).toEqual(cb.snapshot())
  ca.resolve(ca.conflicts()[0]!.id, { pick: 1 })
  syncAll(a!, b)
  expect(cb.conflicts()).toEqual([])
  const s2 = ca.snapshot()
  expect(s2.items[0]).not.toBe(s1.items[0])
})
