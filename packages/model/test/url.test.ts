/**
 * A request's URL is one thing to a person: its raw text, query rows, path variables, host and path agree
 * after every write, merge, resolution and undo, and they read as Postman reads them.
 */
import { Url } from 'postman-collection'
import { describe, expect, test } from 'vitest'
import type * as Y from 'yjs'
import { CollectionModel, type RequestSnapshot } from '@apisync/model'
import { buildUrl, parseUrl, pathVariableNames, splitUrl } from '../src/url.js'
import { docs, fork, syncAll } from './helpers.js'

const setup = (raw: string) => {
  const [doc] = docs(1)
  const model = CollectionModel.create(doc!, { name: 'S' })
  const id = model.createRequest({ url: { raw } })
  const req = () => model.get(id) as RequestSnapshot
  return { doc: doc!, model, id, req }
}
const pairs = (r: RequestSnapshot) => r.url.query.map((q) => [q.key, q.value, q.enabled])

/** Two replicas of a collection with one request at `raw`, as two devices that have synced. */
const two = (raw: string) => {
  const [a, b] = docs(2) as [Y.Doc, Y.Doc]
  const ma = CollectionModel.create(a, { name: 'S' }, { actor: 'ann', device: 'Desktop' })
  const id = ma.createRequest({ url: { raw } })
  syncAll(a, b)
  const mb = CollectionModel.open(b, { actor: 'bob', device: 'Laptop' })
  const req = (m: CollectionModel) => m.get(id) as RequestSnapshot
  return { a, b, ma, mb, id, req }
}

/** What Postman's SDK reads from a raw URL: query pairs (null as '') and path variable names. */
const postman = (raw: string) => {
  const u = Url.parse(raw) as { query?: { key: string | null; value: string | null }[]; variable?: { key: string }[]; path?: string[] }
  return {
    query: (u.query ?? []).map((q) => ({ key: q.key ?? '', value: q.value ?? '' })),
    variables: (u.variable ?? []).map((v) => v.key),
  }
}

/** The request's rows and raw URL say the same thing, as Postman reads the raw URL. */
const expectConsistent = (r: RequestSnapshot) => {
  const enabled = r.url.query.filter((q) => q.enabled)
  const raw = postman(r.url.raw)
  expect(raw.query.length).toBe(enabled.length)
  // A row value with `&` or `#` is written encoded, as Postman writes it.
  const enc = (s: string) => s.replace(/&/g, '%26').replace(/#/g, '%23')
  raw.query.forEach((q, i) => {
    expect(q.key).toBe(enc(enabled[i]!.key).replace(/=/g, '%3D'))
    expect(q.value).toBe(enc(enabled[i]!.value))
  })
  expect(r.url.variables.map((v) => v.key)).toEqual(raw.variables)
}

describe('parsing as Postman parses', () => {
  const cases = [
    'https://x.test/a?b=1&c&d=e=f&=g#frag?x=1',
    'https://x.test/a',
    'https://x.test/a?',
    'https://x.test/a?a=1&&b',
    '{{base}}/a?q=%20{{v}}',
    '{{base}}/users/:id.json?a={{x#y}}&b={{p&q}}',
    'https://x.test:8080/users/:userId/posts/:postId?x=:no',
    '{{base}}/:a/:a/:b',
    '/plain/:/path',
    'http://u:p@host:8080\\win\\:path?k=v',
    'file:///etc/hosts',
    '  https://spaced.test/x',
    'localhost:3000/api/:v',
    '{{host.name}}/a.b/:c?x#',
    'https://x.test/?k=#',
    '?only=query',
    '#only-hash',
    '',
  ]
  test.each(cases)('%j', (raw) => {
    const p = parseUrl(raw)
    const t = splitUrl(raw)
    // The pieces are the raw URL again.
    expect(t.origin + t.path + (t.query !== undefined ? `?${t.query}` : '') + (t.hash !== undefined ? `#${t.hash}` : '')).toBe(raw)
    const sdk = postman(raw)
    expect(p.query).toEqual(sdk.query)
    expect(pathVariableNames(p.path)).toEqual(sdk.variables)
    expect(buildUrl(p, raw)).toBe(raw)
  })

  test('built URLs encode what would split a pair, as Postman does, and read back the same', () => {
    const built = buildUrl({ origin: 'https://x.test', path: '/a', hash: null, query: [{ key: 'a', value: 'x&b=1' }, { key: 'k=1', value: 'y#z' }, { key: 'v', value: '{{a&b}}' }] })
    expect(built).toBe('https://x.test/a?a=x%26b=1&k%3D1=y%23z&v={{a&b}}')
    expect(postman(built).query).toEqual([
      { key: 'a', value: 'x%26b=1' },
      { key: 'k%3D1', value: 'y%23z' },
      { key: 'v', value: '{{a&b}}' },
    ])
    expect(new Url(built).toString()).toBe(built)
  })

  test('a rebuilt URL keeps the typed form of each pair that still reads the same', () => {
    expect(buildUrl({ ...parseUrl('https://x.test/a?a=&b=2'), path: '/v2' }, 'https://x.test/a?a=&b=2')).toBe('https://x.test/v2?a=&b=2')
  })
})

describe('raw URL and its parts stay in step (one writer)', () => {
  test('setting the raw URL edits the enabled query rows in place, keeps disabled ones, adds and removes', () => {
    const { model, id, req } = setup('https://x.test/a?one=1&two=2')
    const disabled = model.addRow(id, 'query', { key: 'off', value: 'x', enabled: false })
    expect(req().url.raw).toBe('https://x.test/a?one=1&two=2')
    const rowIds = req().url.query.map((q) => q.id)
    model.updateItem(id, { url: { raw: 'https://x.test/a?one=uno' } })
    expect(pairs(req())).toEqual([
      ['one', 'uno', true],
      ['off', 'x', false],
    ])
    expect(req().url.query.map((q) => q.id)).toEqual([rowIds[0], disabled])
    model.updateItem(id, { url: { raw: 'https://x.test/a?zero=0&one=uno&three=3&four' } })
    expect(pairs(req())).toEqual([
      ['zero', '0', true],
      ['one', 'uno', true],
      ['off', 'x', false],
      ['three', '3', true],
      ['four', '', true],
    ])
    expect(req().url.query[1]!.id).toBe(rowIds[0])
    expectConsistent(req())
  })

  test('editing query rows rewrites the raw URL; a value with & or # is encoded so it stays one pair', () => {
    const { doc, model, id, req } = setup('https://x.test/a?one=1&two=2#h')
    const [one, two] = req().url.query.map((q) => q.id)
    model.updateRow(id, 'query', one!, { value: '11' })
    expect(req().url.raw).toBe('https://x.test/a?one=11&two=2#h')
    model.updateRow(id, 'query', two!, { enabled: false })
    expect(req().url.raw).toBe('https://x.test/a?one=11#h')
    model.addRow(id, 'query', { key: 'n', value: 'v' }, { index: 0 })
    expect(req().url.raw).toBe('https://x.test/a?n=v&one=11#h')
    model.moveRow(id, 'query', one!, { index: 0 })
    expect(req().url.raw).toBe('https://x.test/a?one=11&n=v#h')
    model.updateRow(id, 'query', one!, { value: 'x&b=1' })
    expect(req().url.raw).toBe('https://x.test/a?one=x%26b=1&n=v#h')
    expectConsistent(req())
    model.removeRow(id, 'query', one!)
    expect(req().url.raw).toBe('https://x.test/a?n=v#h')
    expect(CollectionModel.open(fork(doc, 9)).get(id)).toEqual(req())
  })

  test('the raw URL as typed is kept while it reads the same (`?a=`, a bare `?`)', () => {
    const { model, id, req } = setup('https://x.test/a?a=&b')
    expect(req().url.raw).toBe('https://x.test/a?a=&b')
    expect(pairs(req())).toEqual([
      ['a', '', true],
      ['b', '', true],
    ])
    model.updateItem(id, { url: { raw: 'https://x.test/a?' } })
    expect(pairs(req())).toEqual([['', '', true]])
    expect(req().url.raw).toBe('https://x.test/a?')
    expectConsistent(req())
  })

  test('path variables are the path’s :names (as Postman reads `:id.json`), values kept by name', () => {
    const { model, id, req } = setup('https://x.test/users/:userId')
    expect(req().url.variables.map((v) => v.key)).toEqual(['userId'])
    model.updateRow(id, 'pathVariables', req().url.variables[0]!.id, { value: '42', description: 'the user' })
    const uid = req().url.variables[0]!.id
    model.updateItem(id, { url: { raw: 'https://x.test/users/:userId/posts/:postId.json' } })
    expect(req().url.variables.map((v) => [v.id === uid, v.key, v.value])).toEqual([
      [true, 'userId', '42'],
      [false, 'postId', ''],
    ])
    // Renamed in place: the value goes with it.
    model.updateItem(id, { url: { raw: 'https://x.test/users/:uid/posts/:postId.json' } })
    expect(req().url.variables.map((v) => [v.key, v.value])).toEqual([
      ['uid', '42'],
      ['postId', ''],
    ])
    model.updateItem(id, { url: { raw: 'https://x.test/posts/:postId.json' } })
    expect(req().url.variables.map((v) => v.key)).toEqual(['postId'])
    expectConsistent(req())
  })

  test('renaming, adding and removing a path variable row rewrites the raw URL', () => {
    const { model, id, req } = setup('{{base}}/users/:id.json?x=1')
    const row = req().url.variables[0]!
    model.updateRow(id, 'pathVariables', row.id, { key: 'userId', value: '7' })
    expect(req().url.raw).toBe('{{base}}/users/:userId.json?x=1')
    expect(req().url.variables.map((v) => [v.key, v.value])).toEqual([['userId', '7']])
    model.addRow(id, 'pathVariables', { key: 'postId', value: '9' })
    expect(req().url.raw).toBe('{{base}}/users/:userId.json/:postId?x=1')
    model.removeRow(id, 'pathVariables', req().url.variables[0]!.id)
    expect(req().url.raw).toBe('{{base}}/users/:postId?x=1')
    expect(req().url.variables.map((v) => [v.key, v.value])).toEqual([['postId', '9']])
    expectConsistent(req())
    expect(() => model.addRow(id, 'pathVariables', { key: 'postId' })).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }))
    expect(() => model.addRow(id, 'pathVariables', { key: 'a/b' })).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }))
    expect(() => model.moveRow(id, 'pathVariables', req().url.variables[0]!.id, { index: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }))
  })

  test('creating with explicit query rows keeps them as given, and the raw URL follows them', () => {
    const [doc] = docs(1)
    const model = CollectionModel.create(doc!, { name: 'S' })
    const id = model.createRequest({ url: { raw: 'https://x.test?a=1&stale=1', query: [{ key: 'a', value: '1' }, { key: 'b', value: '2', enabled: false }] } })
    const r = model.get(id) as RequestSnapshot
    expect(pairs(r)).toEqual([
      ['a', '1', true],
      ['b', '2', false],
    ])
    expect(r.url.raw).toBe('https://x.test?a=1')
  })
})

describe('concurrent URL edits (the issue’s reproductions)', () => {
  test('A changes limit=20, B changes the path to /v2: both land, no conflict', () => {
    const { a, b, ma, mb, id, req } = two('https://shop.test/products?limit=10')
    ma.updateItem(id, { url: { raw: 'https://shop.test/products?limit=20' } })
    mb.updateItem(id, { url: { raw: 'https://shop.test/v2/products?limit=10' } })
    syncAll(a, b)
    for (const m of [ma, mb]) {
      expect(req(m).url.raw).toBe('https://shop.test/v2/products?limit=20')
      expect(pairs(req(m))).toEqual([['limit', '20', true]])
      expect(m.conflicts()).toEqual([])
      expectConsistent(req(m))
    }
  })

  test('A edits the limit row in the table, B types a new path: both land', () => {
    const { a, b, ma, mb, id, req } = two('https://shop.test/products?limit=10')
    ma.updateRow(id, 'query', req(ma).url.query[0]!.id, { value: '20' })
    mb.updateItem(id, { url: { raw: 'https://shop.test/v2/products?limit=10' } })
    syncAll(a, b)
    for (const m of [ma, mb]) {
      expect(req(m).url.raw).toBe('https://shop.test/v2/products?limit=20')
      expect(m.conflicts()).toEqual([])
    }
  })

  test('the same URL typed on two devices: one set of query rows and path variables, no conflict', () => {
    const { a, b, ma, mb, id, req } = two('https://shop.test/products')
    ma.updateItem(id, { url: { raw: 'https://shop.test/products/:id?sort=asc&page=2' } })
    mb.updateItem(id, { url: { raw: 'https://shop.test/products/:id?sort=asc&page=2' } })
    syncAll(a, b)
    for (const m of [ma, mb]) {
      expect(pairs(req(m))).toEqual([
        ['sort', 'asc', true],
        ['page', '2', true],
      ])
      expect(req(m).url.variables.map((v) => v.key)).toEqual(['id'])
      expect(req(m).url.raw).toBe('https://shop.test/products/:id?sort=asc&page=2')
      expect(m.conflicts()).toEqual([])
    }
    expect(req(ma)).toEqual(req(mb))
  })

  test('the same URL typed character by character on two devices gives one row too', () => {
    const { a, b, ma, mb, id, req } = two('https://shop.test/p')
    const target = 'https://shop.test/p?sort=asc'
    for (let i = 'https://shop.test/p'.length + 1; i <= target.length; i++) {
      ma.updateItem(id, { url: { raw: target.slice(0, i) } })
      mb.updateItem(id, { url: { raw: target.slice(0, i) } })
    }
    syncAll(a, b)
    for (const m of [ma, mb]) {
      expect(pairs(req(m))).toEqual([['sort', 'asc', true]])
      expect(m.conflicts()).toEqual([])
    }
  })

  test('two people adding different query parameters both land', () => {
    const { a, b, ma, mb, id, req } = two('https://shop.test/p?a=1')
    ma.updateItem(id, { url: { raw: 'https://shop.test/p?a=1&page=2' } })
    mb.addRow(id, 'query', { key: 'sort', value: 'asc' })
    syncAll(a, b)
    for (const m of [ma, mb]) {
      expect(pairs(req(m)).map((p) => p[0]).sort()).toEqual(['a', 'page', 'sort'])
      expect(m.conflicts()).toEqual([])
      expectConsistent(req(m))
    }
  })

  test('A edits a disabled row’s value while B enables it: the raw URL says the row', () => {
    const { a, b, ma, mb, id, req } = two('https://x.test/a')
    const row = ma.addRow(id, 'query', { key: 'debug', value: '1', enabled: false })
    syncAll(a, b)
    ma.updateRow(id, 'query', row, { value: '2' })
    mb.updateRow(id, 'query', row, { enabled: true })
    syncAll(a, b)
    for (const m of [ma, mb]) {
      expect(req(m).url.raw).toBe('https://x.test/a?debug=2')
      expect(m.conflicts()).toEqual([])
    }
  })

  test('two people changing the same part: one URL conflict whose alternatives are whole URLs, with who and where', () => {
    const { a, b, ma, mb, id, req } = two('https://shop.test/products?limit=10')
    ma.updateItem(id, { url: { raw: 'https://shop.test/v2/products?limit=20' } })
    mb.updateItem(id, { url: { raw: 'https://shop.test/v3/products?limit=10' } })
    syncAll(a, b)
    const [c, ...rest] = ma.conflicts()
    expect(rest).toEqual([])
    expect(mb.conflicts()).toEqual([c])
    expect(c).toMatchObject({ kind: 'value', field: 'url', entityId: id })
    const raws = c!.alternatives.map((x) => (x.value as { raw: string }).raw)
    expect(raws.sort()).toEqual(['https://shop.test/v2/products?limit=20', 'https://shop.test/v3/products?limit=20'])
    expect(c!.alternatives.map((x) => [x.by, x.device]).sort()).toEqual([
      ['ann', 'Desktop'],
      ['bob', 'Laptop'],
    ])
    expect(c!.alternatives.find((x) => x.winner)!.value).toEqual({ raw: req(ma).url.raw, query: [{ key: 'limit', value: '20', enabled: true }] })
    // Resolving picks a whole URL; every part follows, on every replica.
    const loser = c!.alternatives.findIndex((x) => !x.winner)
    const chosen = (c!.alternatives[loser]!.value as { raw: string }).raw
    expect(chosen).not.toBe(req(ma).url.raw)
    mb.resolve(c!.id, { pick: loser })
    syncAll(a, b)
    for (const m of [ma, mb]) {
      expect(m.conflicts()).toEqual([])
      expect(req(m).url.raw).toBe(chosen)
      expectConsistent(req(m))
    }
  })

  test('one row’s value changed on both: a URL conflict; resolving with a typed URL sets every part', () => {
    const { a, b, ma, mb, id, req } = two('https://x.test/a?sort=asc&page=1')
    const sort = req(ma).url.query[0]!.id
    ma.updateRow(id, 'query', sort, { value: 'desc' })
    mb.updateItem(id, { url: { raw: 'https://x.test/a?sort=name&page=1' } })
    syncAll(a, b)
    const [c] = ma.conflicts()
    expect(c?.field).toBe('url')
    expect(c!.alternatives.map((x) => (x.value as { raw: string }).raw).sort()).toEqual(['https://x.test/a?sort=desc&page=1', 'https://x.test/a?sort=name&page=1'])
    ma.resolve(c!.id, { value: 'https://x.test/b?sort=size&page=1' })
    syncAll(a, b)
    for (const m of [ma, mb]) {
      expect(m.conflicts()).toEqual([])
      expect(req(m).url.raw).toBe('https://x.test/b?sort=size&page=1')
    }
  })

  test('a row removed on one device while its value is edited on the other: a URL conflict, nothing lost', () => {
    const { a, b, ma, mb, id, req } = two('https://x.test/a?keep=1&gone=1')
    ma.updateItem(id, { url: { raw: 'https://x.test/a?keep=1' } })
    mb.updateRow(id, 'query', req(mb).url.query[1]!.id, { value: '2' })
    syncAll(a, b)
    const [c] = ma.conflicts()
    expect(c).toMatchObject({ field: 'url', kind: 'value' })
    expect(c!.alternatives.map((x) => (x.value as { raw: string }).raw)).toEqual(['https://x.test/a?keep=1', 'https://x.test/a?keep=1&gone=2'])
    mb.resolve(c!.id, { pick: 1 })
    syncAll(a, b)
    for (const m of [ma, mb]) {
      expect(m.conflicts()).toEqual([])
      expect(req(m).url.raw).toBe('https://x.test/a?keep=1&gone=2')
    }
  })

  test('undo of a row edit after a peer’s URL edit leaves raw and rows in agreement', () => {
    const { a, b, ma, mb, id, req } = two('https://x.test/a?limit=10')
    ma.updateRow(id, 'query', req(ma).url.query[0]!.id, { value: '20' })
    syncAll(a, b)
    mb.updateItem(id, { url: { raw: 'https://x.test/v2/a?limit=20' } })
    syncAll(a, b)
    ma.undo()
    syncAll(a, b)
    for (const m of [ma, mb]) {
      expect(req(m).url.raw).toBe('https://x.test/v2/a?limit=10')
      expect(pairs(req(m))).toEqual([['limit', '10', true]])
    }
  })

  test('undoing a URL resolution brings the whole conflict back', () => {
    const { a, b, ma, mb, id } = two('https://x.test/a?q=1')
    ma.updateItem(id, { url: { raw: 'https://x.test/b?q=2' } })
    mb.updateItem(id, { url: { raw: 'https://x.test/c?q=3' } })
    syncAll(a, b)
    const before = ma.conflicts()
    expect(before).toHaveLength(1)
    ma.resolve(before[0]!.id, { pick: 1 })
    expect(ma.conflicts()).toEqual([])
    ma.undo()
    syncAll(a, b)
    expect(ma.conflicts()).toEqual(before)
    expect(mb.conflicts()).toEqual(before)
  })

  test('the same path variable’s value set on two devices: one row, and a conflict if they differ', () => {
    const { a, b, ma, mb, id, req } = two('https://x.test/users/:id')
    ma.updateRow(id, 'pathVariables', req(ma).url.variables[0]!.id, { value: '7' })
    mb.updateRow(id, 'pathVariables', req(mb).url.variables[0]!.id, { value: '8' })
    syncAll(a, b)
    for (const m of [ma, mb]) {
      expect(req(m).url.variables).toHaveLength(1)
      const c = m.conflicts()
      expect(c).toHaveLength(1)
      expect(c[0]!.alternatives.map((x) => x.value).sort()).toEqual(['7', '8'])
    }
    mb.resolve(mb.conflicts()[0]!.id, { pick: 1 })
    syncAll(a, b)
    for (const m of [ma, mb]) {
      expect(m.conflicts()).toEqual([])
      expect(req(m).url.variables).toHaveLength(1)
    }
    expect(req(ma)).toEqual(req(mb))
  })
})

describe('body mode and its content', () => {
  test('A edits the raw body while B switches the mode: a conflict offering the edited mode, nothing dropped', () => {
    const [a, b] = docs(2) as [Y.Doc, Y.Doc]
    const ma = CollectionModel.create(a, { name: 'S' }, { actor: 'ann', device: 'Desktop' })
    const id = ma.createRequest({ body: { mode: 'raw', raw: '{"a":1}' } })
    syncAll(a, b)
    const mb = CollectionModel.open(b, { actor: 'bob', device: 'Laptop' })
    ma.editText(id, 'bodyRaw', 6, 0, ',"b":2')
    mb.updateItem(id, { body: { mode: 'urlencoded' } })
    syncAll(a, b)
    for (const m of [ma, mb]) {
      const [c, ...rest] = m.conflicts()
      expect(rest).toEqual([])
      expect(c).toMatchObject({ field: 'bodyMode', kind: 'value' })
      expect(c!.alternatives.map((x) => [x.value, x.by, x.device])).toEqual([
        ['urlencoded', 'bob', 'Laptop'],
        ['raw', 'ann', 'Desktop'],
      ])
      expect((m.get(id) as RequestSnapshot).body.raw).toBe('{"a":1,"b":2}')
    }
    ma.resolve(ma.conflicts()[0]!.id, { pick: 1 })
    syncAll(a, b)
    for (const m of [ma, mb]) {
      expect(m.conflicts()).toEqual([])
      expect((m.get(id) as RequestSnapshot).body.mode).toBe('raw')
    }
  })

  test('switching modes after seeing the edits is no conflict, nor is editing the mode one switched to', () => {
    const [a, b] = docs(2) as [Y.Doc, Y.Doc]
    const ma = CollectionModel.create(a, { name: 'S' })
    const id = ma.createRequest({ body: { mode: 'raw', raw: 'x' } })
    syncAll(a, b)
    const mb = CollectionModel.open(b)
    ma.editText(id, 'bodyRaw', 1, 0, 'y')
    syncAll(a, b)
    mb.updateItem(id, { body: { mode: 'urlencoded' } })
    ma.addRow(id, 'urlencoded', { key: 'k', value: 'v' })
    syncAll(a, b)
    expect(ma.conflicts()).toEqual([])
    expect(mb.conflicts()).toEqual([])
  })

  test('A edits basic auth’s password while B switches to a bearer token: one auth conflict, both whole', () => {
    const { a, b, ma, mb, id, req } = two('https://x.test')
    ma.updateItem(id, { auth: { type: 'basic', basic: [{ key: 'username', value: 'u', type: 'string' }, { key: 'password', value: 'p', type: 'string' }] } })
    syncAll(a, b)
    ma.updateItem(id, { auth: { type: 'basic', basic: [{ key: 'username', value: 'u', type: 'string' }, { key: 'password', value: 'p2', type: 'string' }] } })
    mb.updateItem(id, { auth: { type: 'bearer', bearer: [{ key: 'token', value: 't', type: 'string' }] } })
    syncAll(a, b)
    const [c] = ma.conflicts()
    expect(c).toMatchObject({ field: 'auth' })
    expect(c!.alternatives.map((x) => (x.value as { type: string }).type).sort()).toEqual(['basic', 'bearer'])
    // Whatever is shown meanwhile is one whole auth: its type's params are there.
    const shown = req(mb).auth as { type: string } & Record<string, unknown>
    expect(Array.isArray(shown[shown.type])).toBe(true)
  })

  test('auth is one value: its type and its params change together, and a type is required', () => {
    const { model, id } = setup('https://x.test')
    expect(() => model.updateItem(id, { auth: { bearer: [] } })).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }))
    model.updateItem(id, { auth: { type: 'bearer', bearer: [{ key: 'token', value: 't', type: 'string' }] } })
    expect((model.get(id) as RequestSnapshot).auth).toEqual({ type: 'bearer', bearer: [{ key: 'token', value: 't', type: 'string' }] })
  })
})
