import { describe, expect, test } from 'vitest'
import { CollectionModel, type RequestSnapshot } from '@apisync/model'
import { parseQuery, pathVariableNames, withQuery } from '../src/url.js'
import { docs, fork, syncAll } from './helpers.js'

const setup = (raw: string) => {
  const [doc] = docs(1)
  const model = CollectionModel.create(doc!, { name: 'S' })
  const id = model.createRequest({ url: { raw } })
  const req = () => model.get(id) as RequestSnapshot
  return { doc: doc!, model, id, req }
}
const pairs = (r: RequestSnapshot) => r.url.query.map((q) => [q.key, q.value, q.enabled])

describe('url helpers', () => {
  test('parseQuery keeps values as typed, splits on the first =', () => {
    expect(parseQuery('https://x.test/a?b=1&c&d=e=f&=g#frag?x=1')).toEqual([
      { key: 'b', value: '1' },
      { key: 'c', value: '' },
      { key: 'd', value: 'e=f' },
      { key: '', value: 'g' },
    ])
    expect(parseQuery('https://x.test/a')).toEqual([])
    expect(parseQuery('https://x.test/a?')).toEqual([])
    expect(parseQuery('{{base}}/a?q=%20{{v}}')).toEqual([{ key: 'q', value: '%20{{v}}' }])
  })

  test('withQuery replaces the query string and keeps the hash', () => {
    expect(withQuery('https://x.test/a?old=1#top', [{ key: 'a', value: '1' }, { key: 'flag', value: '' }])).toBe('https://x.test/a?a=1&flag#top')
    expect(withQuery('https://x.test/a?old=1#top', [])).toBe('https://x.test/a#top')
  })

  test('pathVariableNames: :name segments of the path only, not the host port or the query', () => {
    expect(pathVariableNames('https://x.test:8080/users/:userId/posts/:postId?x=:no')).toEqual(['userId', 'postId'])
    expect(pathVariableNames('{{base}}/:a/:a/:b')).toEqual(['a', 'b'])
    expect(pathVariableNames('/plain/:/path')).toEqual([])
  })
})

describe('raw URL and its parts stay in step', () => {
  test('setting the raw URL rewrites the enabled query rows and keeps disabled ones', () => {
    const { model, id, req } = setup('https://x.test/a?one=1&two=2')
    const disabled = model.addRow(id, 'query', { key: 'off', value: 'x', enabled: false })
    expect(req().url.raw).toBe('https://x.test/a?one=1&two=2')
    const rowIds = req().url.query.map((q) => q.id)
    model.updateItem(id, { url: { raw: 'https://x.test/a?one=uno' } })
    expect(pairs(req())).toEqual([
      ['one', 'uno', true],
      ['off', 'x', false],
    ])
    // The first row was updated in place (same id), the second removed, the disabled one kept.
    expect(req().url.query.map((q) => q.id)).toEqual([rowIds[0], disabled])
    model.updateItem(id, { url: { raw: 'https://x.test/a?one=uno&three=3&four' } })
    expect(pairs(req())).toEqual([
      ['one', 'uno', true],
      ['off', 'x', false],
      ['three', '3', true],
      ['four', '', true],
    ])
  })

  test('editing a query row rewrites the raw URL', () => {
    const { doc, model, id, req } = setup('https://x.test/a?one=1&two=2#h')
    const [one, two] = req().url.query.map((q) => q.id)
    model.snapshot()
    model.updateRow(id, 'query', one!, { value: '11' })
    expect(req().url.raw).toBe('https://x.test/a?one=11&two=2#h')
    model.updateRow(id, 'query', two!, { enabled: false })
    expect(req().url.raw).toBe('https://x.test/a?one=11#h')
    model.addRow(id, 'query', { key: 'n', value: 'v' }, { index: 0 })
    expect(req().url.raw).toBe('https://x.test/a?n=v&one=11#h')
    model.moveRow(id, 'query', one!, { index: 0 })
    expect(req().url.raw).toBe('https://x.test/a?one=11&n=v#h')
    model.removeRow(id, 'query', one!)
    expect(req().url.raw).toBe('https://x.test/a?n=v#h')
    expect(CollectionModel.open(fork(doc, 9)).get(id)).toEqual(req())
  })

  test('path variables follow the :names of the raw URL and keep their values', () => {
    const { model, id, req } = setup('https://x.test/users/:userId')
    const uid = req().url.variables[0]!.id
    model.updateRow(id, 'pathVariables', uid, { value: '42', description: 'the user' })
    model.updateItem(id, { url: { raw: 'https://x.test/users/:userId/posts/:postId' } })
    expect(req().url.variables.map((v) => [v.id === uid, v.key, v.value])).toEqual([
      [true, 'userId', '42'],
      [false, 'postId', ''],
    ])
    model.updateItem(id, { url: { raw: 'https://x.test/posts/:postId' } })
    expect(req().url.variables.map((v) => v.key)).toEqual(['postId'])
  })

  test('creating with explicit query rows keeps them as given', () => {
    const [doc] = docs(1)
    const model = CollectionModel.create(doc!, { name: 'S' })
    const id = model.createRequest({ url: { raw: 'https://x.test?a=1', query: [{ key: 'a', value: '1' }, { key: 'b', value: '2', enabled: false }] } })
    expect(pairs(model.get(id) as RequestSnapshot)).toEqual([
      ['a', '1', true],
      ['b', '2', false],
    ])
  })

  test('a URL edit and a concurrent query row edit converge to the same URL and rows', () => {
    const [a, b] = docs(2)
    const ca = CollectionModel.create(a!, { name: 'S' })
    const id = ca.createRequest({ url: { raw: 'https://x.test?a=1' } })
    syncAll(a!, b!)
    const cb = CollectionModel.open(b!)
    ca.updateItem(id, { url: { raw: 'https://y.test?a=1' } })
    cb.updateRow(id, 'query', (cb.get(id) as RequestSnapshot).url.query[0]!.id, { value: '2' })
    syncAll(a!, b!)
    expect(ca.snapshot()).toEqual(cb.snapshot())
    // Both wrote the url register concurrently: a conflict, not a silent loss.
    const c = ca.conflicts().find((x) => x.field === 'url')!
    expect(c.alternatives.map((x) => x.value).sort()).toEqual(['https://x.test?a=2', 'https://y.test?a=1'])
  })
})
