import { describe, expect, test } from 'vitest'
import * as Y from 'yjs'
import { CollectionModel, type RequestSnapshot, type FolderSnapshot } from '@apisync/model'
import { docs, fork, syncAll } from './helpers.js'

const open = () => {
  const [doc] = docs(1)
  return { doc: doc!, model: CollectionModel.create(doc!, { id: 'col-1', name: 'Shop' }, { actor: 'ann' }) }
}

/** Reads a model's state in a fresh replica: what was written survives encoding and sync. */
const reopen = (doc: Y.Doc) => CollectionModel.open(fork(doc, 99))

describe('collection', () => {
  test('create writes every collection field and they read back, also in another replica', () => {
    const [doc] = docs(1)
    const model = CollectionModel.create(doc!, {
      id: 'c-42',
      name: 'Payments API',
      description: 'All the payment endpoints',
      version: { major: 2, minor: 1, patch: 0 },
      auth: { type: 'bearer', bearer: [{ key: 'token', value: '{{token}}', type: 'string' }] },
      variables: [
        { key: 'base', value: 'https://pay.test', type: 'default' },
        { key: 'secret', value: 's3cr3t', type: 'secret', enabled: false, description: 'api key' },
        { key: 'n', value: 42, type: 'number' },
      ],
      scripts: { prerequest: 'pm.environment.set("a", 1)', test: 'pm.test("ok", () => {})' },
      protocolProfileBehavior: { disableBodyPruning: true },
      extra: { _postman_id: 'abc', event: [{ listen: 'x' }] },
    })
    for (const m of [model, reopen(doc!)]) {
      const s = m.snapshot()
      expect(m.id).toBe('c-42')
      expect(s).toMatchObject({
        id: 'c-42',
        name: 'Payments API',
        description: 'All the payment endpoints',
        version: { major: 2, minor: 1, patch: 0 },
        auth: { type: 'bearer', bearer: [{ key: 'token', value: '{{token}}', type: 'string' }] },
        scripts: { prerequest: 'pm.environment.set("a", 1)', test: 'pm.test("ok", () => {})' },
        protocolProfileBehavior: { disableBodyPruning: true },
        extra: { _postman_id: 'abc', event: [{ listen: 'x' }] },
        items: [],
        conflicts: [],
        problems: [],
      })
      expect(s.variables.map(({ id: _id, ...v }) => v)).toEqual([
        { key: 'base', value: 'https://pay.test', type: 'default', enabled: true, description: '', extra: {} },
        { key: 'secret', value: 's3cr3t', type: 'secret', enabled: false, description: 'api key', extra: {} },
        { key: 'n', value: 42, type: 'number', enabled: true, description: '', extra: {} },
      ])
    }
  })

  test('updateCollection changes registers and texts; absent fields stay', () => {
    const { doc, model } = open()
    model.updateCollection({ description: 'v1 docs', auth: { type: 'noauth' } })
    model.updateCollection({ name: 'Shop 2', scripts: { test: 'tests["x"] = true' }, version: '1.0.0', auth: null })
    const s = reopen(doc).snapshot()
    expect(s.name).toBe('Shop 2')
    expect(s.description).toBe('v1 docs')
    expect(s.scripts).toEqual({ prerequest: '', test: 'tests["x"] = true' })
    expect(s.version).toBe('1.0.0')
    expect(s.auth).toBeNull()
  })

  test('collection variables: add, update, remove, reorder', () => {
    const { doc, model } = open()
    const a = model.addRow(model.id, 'variables', { key: 'a', value: '1' })
    const b = model.addRow(model.id, 'variables', { key: 'b', value: true, type: 'boolean' })
    const c = model.addRow(model.id, 'variables', { key: 'c', value: '3' }, { index: 0 })
    model.updateRow(model.id, 'variables', a, { value: '1b', enabled: false })
    model.removeRow(model.id, 'variables', b)
    model.moveRow(model.id, 'variables', c, { after: a })
    const vars = reopen(doc).snapshot().variables
    expect(vars.map((v) => [v.id, v.key, v.value, v.enabled])).toEqual([
      [a, 'a', '1b', false],
      [c, 'c', '3', true],
    ])
  })
})

describe('folder', () => {
  test('every folder field reads back', () => {
    const { doc, model } = open()
    const f = model.createFolder({
      id: 'f-1',
      name: 'Auth',
      description: 'login & co',
      auth: { type: 'basic', basic: [{ key: 'username', value: 'u' }] },
      variables: [{ key: 'realm', value: 'r1' }],
      scripts: { prerequest: 'console.log(1)', test: 'console.log(2)' },
      protocolProfileBehavior: { followRedirects: false },
      extra: { auth_legacy: 1 },
    })
    expect(f).toBe('f-1')
    for (const m of [model, reopen(doc)]) {
      const folder = m.get(f) as FolderSnapshot
      expect(folder).toMatchObject({
        kind: 'folder',
        id: 'f-1',
        name: 'Auth',
        description: 'login & co',
        auth: { type: 'basic', basic: [{ key: 'username', value: 'u' }] },
        scripts: { prerequest: 'console.log(1)', test: 'console.log(2)' },
        protocolProfileBehavior: { followRedirects: false },
        extra: { auth_legacy: 1 },
        items: [],
      })
      expect(folder.variables).toMatchObject([{ key: 'realm', value: 'r1', type: 'default', enabled: true }])
      expect(m.snapshot().items).toEqual([folder])
    }
    model.updateItem(f, { name: 'Authn', description: 'only login', auth: null, scripts: { test: '' } })
    expect(reopen(doc).get(f)).toMatchObject({ name: 'Authn', description: 'only login', auth: null, scripts: { prerequest: 'console.log(1)', test: '' } })
  })

  test('nested folders and requests keep their order', () => {
    const { doc, model } = open()
    const a = model.createFolder({ name: 'A' })
    const b = model.createFolder({ name: 'B' }, { parent: a })
    const r1 = model.createRequest({ name: 'r1' }, { parent: b })
    const r0 = model.createRequest({ name: 'r0' }, { parent: b, placement: { before: r1 } })
    const r2 = model.createRequest({ name: 'r2' }, { parent: b, placement: { index: 99 } })
    const top = model.createRequest({ name: 'top' }, { placement: { index: 0 } })
    const s = reopen(doc).snapshot()
    expect(s.items.map((i) => i.name)).toEqual(['top', 'A'])
    const fa = s.items[1] as FolderSnapshot
    const fb = fa.items[0] as FolderSnapshot
    expect(fb.items.map((i) => i.id)).toEqual([r0, r1, r2])
    expect(model.parentId(r1)).toBe(b)
    expect(model.parentId(b)).toBe(a)
    expect(model.parentId(top)).toBeNull()
    expect(model.parentId('nope')).toBeUndefined()
  })
})

describe('request', () => {
  test('every request field reads back: url parts, headers, auth, scripts, settings, extra', () => {
    const { doc, model } = open()
    const r = model.createRequest({
      id: 'r-1',
      name: 'Get order',
      description: 'Fetch **one** order',
      method: 'PROPFIND',
      url: {
        raw: 'https://{{host}}/orders/:orderId?expand=items&limit=10',
        extra: { protocol: 'https', host: ['{{host}}'], path: ['orders', ':orderId'] },
      },
      headers: [
        { key: 'Accept', value: 'application/json' },
        { key: 'X-Trace', value: '1', enabled: false, description: 'debug only', extra: { type: 'text' } },
      ],
      auth: { type: 'hawk', hawk: [{ key: 'authId', value: 'id' }] },
      scripts: { prerequest: 'pre()', test: 'test()' },
      protocolProfileBehavior: { disableCookies: true },
      extra: { event: [] },
    })
    for (const m of [model, reopen(doc)]) {
      const req = m.get(r) as RequestSnapshot
      expect(req).toMatchObject({
        kind: 'request',
        id: 'r-1',
        name: 'Get order',
        description: 'Fetch **one** order',
        method: 'PROPFIND',
        auth: { type: 'hawk', hawk: [{ key: 'authId', value: 'id' }] },
        scripts: { prerequest: 'pre()', test: 'test()' },
        protocolProfileBehavior: { disableCookies: true },
        extra: { event: [] },
        responses: [],
      })
      expect(req.url.raw).toBe('https://{{host}}/orders/:orderId?expand=items&limit=10')
      expect(req.url.extra).toEqual({ protocol: 'https', host: ['{{host}}'], path: ['orders', ':orderId'] })
      // The parsed parts follow the raw URL.
      expect(req.url.query.map((q) => [q.key, q.value, q.enabled])).toEqual([
        ['expand', 'items', true],
        ['limit', '10', true],
      ])
      expect(req.url.variables.map((v) => [v.key, v.value])).toEqual([['orderId', '']])
      expect(req.headers.map(({ id: _id, ...h }) => h)).toEqual([
        { key: 'Accept', value: 'application/json', enabled: true, description: '', extra: {} },
        { key: 'X-Trace', value: '1', enabled: false, description: 'debug only', extra: { type: 'text' } },
      ])
    }
  })

  test('defaults of a bare request', () => {
    const { model } = open()
    const r = model.createRequest()
    expect(model.get(r)).toMatchObject({
      name: '',
      method: 'GET',
      url: { raw: '', query: [], variables: [], extra: {} },
      headers: [],
      body: { mode: null, raw: '', language: '', urlencoded: [], formdata: [], file: null, graphql: { query: '', variables: '', operationName: '' }, extra: {} },
      auth: null,
      protocolProfileBehavior: null,
    })
  })

  test('body mode raw with language', () => {
    const { doc, model } = open()
    const r = model.createRequest({ method: 'POST', body: { mode: 'raw', raw: '{"a":1}', language: 'json', extra: { options: { raw: { language: 'json' } } } } })
    expect((reopen(doc).get(r) as RequestSnapshot).body).toMatchObject({ mode: 'raw', raw: '{"a":1}', language: 'json', extra: { options: { raw: { language: 'json' } } } })
    model.updateItem(r, { body: { raw: '{"a":2}', language: 'javascript' } })
    expect((reopen(doc).get(r) as RequestSnapshot).body).toMatchObject({ mode: 'raw', raw: '{"a":2}', language: 'javascript' })
  })

  test('body mode urlencoded', () => {
    const { doc, model } = open()
    const r = model.createRequest({ body: { mode: 'urlencoded', urlencoded: [{ key: 'grant_type', value: 'password' }, { key: 'scope', value: 'x', enabled: false }] } })
    const row = model.addRow(r, 'urlencoded', { key: 'user', value: 'ann' })
    model.updateRow(r, 'urlencoded', row, { value: 'bob' })
    const body = (reopen(doc).get(r) as RequestSnapshot).body
    expect(body.mode).toBe('urlencoded')
    expect(body.urlencoded.map((p) => [p.key, p.value, p.enabled])).toEqual([
      ['grant_type', 'password', true],
      ['scope', 'x', false],
      ['user', 'bob', true],
    ])
  })

  test('body mode formdata with text and file parts', () => {
    const { doc, model } = open()
    const r = model.createRequest({
      method: 'POST',
      body: {
        mode: 'formdata',
        formdata: [
          { key: 'title', value: 'Cat', type: 'text', contentType: 'text/plain' },
          { key: 'photo', type: 'file', src: '/home/ann/cat.png', description: 'the picture' },
          { key: 'more', type: 'file', src: ['/a.txt', '/b.txt'], enabled: false },
        ],
      },
    })
    const form = (reopen(doc).get(r) as RequestSnapshot).body.formdata
    expect(form.map(({ id: _id, ...p }) => p)).toEqual([
      { key: 'title', type: 'text', value: 'Cat', src: null, contentType: 'text/plain', enabled: true, description: '', extra: {} },
      { key: 'photo', type: 'file', value: '', src: '/home/ann/cat.png', contentType: '', enabled: true, description: 'the picture', extra: {} },
      { key: 'more', type: 'file', value: '', src: ['/a.txt', '/b.txt'], contentType: '', enabled: false, description: '', extra: {} },
    ])
    model.updateRow(r, 'formdata', form[1]!.id, { src: '/home/ann/dog.png' })
    expect((reopen(doc).get(r) as RequestSnapshot).body.formdata[1]!.src).toBe('/home/ann/dog.png')
  })

  test('body mode file', () => {
    const { doc, model } = open()
    const r = model.createRequest({ method: 'PUT', body: { mode: 'file', file: { src: '/tmp/upload.bin' } } })
    expect((reopen(doc).get(r) as RequestSnapshot).body).toMatchObject({ mode: 'file', file: { src: '/tmp/upload.bin' } })
  })

  test('body mode graphql: query, variables, operationName', () => {
    const { doc, model } = open()
    const r = model.createRequest({
      method: 'POST',
      body: { mode: 'graphql', graphql: { query: 'query Q($id: ID!) { node(id: $id) { id } }', variables: '{"id":"1"}', operationName: 'Q' } },
    })
    expect((reopen(doc).get(r) as RequestSnapshot).body.graphql).toEqual({
      query: 'query Q($id: ID!) { node(id: $id) { id } }',
      variables: '{"id":"1"}',
      operationName: 'Q',
    })
    model.editText(r, 'graphqlQuery', 6, 1, 'Order')
    model.updateItem(r, { body: { graphql: { operationName: 'Order' } } })
    expect((reopen(doc).get(r) as RequestSnapshot).body.graphql).toEqual({
      query: 'query Order($id: ID!) { node(id: $id) { id } }',
      variables: '{"id":"1"}',
      operationName: 'Order',
    })
  })

  test('body mode none, unknown modes and switching modes keep the other modes content', () => {
    const { doc, model } = open()
    const r = model.createRequest({ body: { mode: 'raw', raw: 'hello' } })
    model.updateItem(r, { body: { mode: 'none' } })
    expect((reopen(doc).get(r) as RequestSnapshot).body).toMatchObject({ mode: 'none', raw: 'hello' })
    model.updateItem(r, { body: { mode: 'binary-stream' } })
    expect((reopen(doc).get(r) as RequestSnapshot).body.mode).toBe('binary-stream')
    model.updateItem(r, { body: { mode: null } })
    expect((reopen(doc).get(r) as RequestSnapshot).body.mode).toBeNull()
  })

  test('auth of an unknown type with its params reads back as given', () => {
    const { doc, model } = open()
    const auth = { type: 'x-custom-sig', 'x-custom-sig': [{ key: 'alg', value: 'ed25519', type: 'string' }], nested: { deep: [1, 2, { x: null }] } }
    const r = model.createRequest({ auth })
    expect(reopen(doc).get(r)).toMatchObject({ auth })
  })

  test('text fields edit character-wise through editText and text()', () => {
    const { doc, model } = open()
    const r = model.createRequest({ description: 'hello world', scripts: { test: 'a' } })
    model.editText(r, 'description', 5, 6, ', there')
    model.editText(r, 'test', 1, 0, 'bc')
    model.text(r, 'prerequest').insert(0, 'pre')
    model.editText(r, 'bodyRaw', 0, 0, '{}')
    model.editText(model.id, 'description', 0, 0, 'collection docs')
    const s = reopen(doc).snapshot()
    expect(s.description).toBe('collection docs')
    expect(s.items[0]).toMatchObject({ description: 'hello, there', scripts: { prerequest: 'pre', test: 'abc' }, body: { raw: '{}' } })
  })

  test('saved responses: every field reads back, update, order, delete', () => {
    const { doc, model } = open()
    const r = model.createRequest({ name: 'Login' })
    const original = { method: 'POST', url: { raw: 'https://x.test/login' }, header: [] }
    const ok = model.addResponse(r, {
      id: 'resp-ok',
      name: '200 OK',
      originalRequest: original,
      status: 'OK',
      code: 200,
      headers: [{ key: 'Content-Type', value: 'application/json' }],
      cookies: [{ domain: 'x.test', name: 'sid', value: '1' }],
      body: '{"token":"t"}',
      responseTime: 123,
      extra: { _postman_previewlanguage: 'json' },
    })
    const bad = model.addResponse(r, { name: '401', code: 401, status: 'Unauthorized' }, { index: 0 })
    for (const m of [model, reopen(doc)]) {
      const req = m.get(r) as RequestSnapshot
      expect(req.responses.map((x) => x.id)).toEqual([bad, ok])
      expect(req.responses[1]).toMatchObject({
        id: 'resp-ok',
        name: '200 OK',
        originalRequest: original,
        status: 'OK',
        code: 200,
        cookies: [{ domain: 'x.test', name: 'sid', value: '1' }],
        body: '{"token":"t"}',
        responseTime: 123,
        extra: { _postman_previewlanguage: 'json' },
      })
      expect(req.responses[1]!.headers.map((h) => [h.key, h.value])).toEqual([['Content-Type', 'application/json']])
      expect(req.responses[0]).toMatchObject({ code: 401, status: 'Unauthorized', responseTime: null, cookies: [], body: '', originalRequest: null })
    }
    model.updateResponse(ok, { name: 'Success', code: 201, responseTime: null })
    model.addRow(ok, 'headers', { key: 'X-Id', value: '9' })
    model.editText(ok, 'body', 0, 0, ' ')
    expect((reopen(doc).get(r) as RequestSnapshot).responses[1]).toMatchObject({ name: 'Success', code: 201, responseTime: null, body: ' {"token":"t"}' })
    expect((reopen(doc).get(r) as RequestSnapshot).responses[1]!.headers.map((h) => h.key)).toEqual(['Content-Type', 'X-Id'])
    model.deleteResponse(bad)
    expect((reopen(doc).get(r) as RequestSnapshot).responses.map((x) => x.id)).toEqual([ok])
  })

  test('a saved response of a deleted request comes back with it', () => {
    const { model } = open()
    const r = model.createRequest({ name: 'Login' })
    const resp = model.addResponse(r, { name: 'ok' })
    model.delete(r)
    expect(model.get(r)).toBeUndefined()
    model.restore(r)
    expect((model.get(r) as RequestSnapshot).responses.map((x) => x.id)).toEqual([resp])
  })

  test('two replicas that add items concurrently both keep them, in the same order', () => {
    const [a, b] = docs(2)
    const ca = CollectionModel.create(a!, { name: 'S' })
    syncAll(a!, b!)
    const cb = CollectionModel.open(b!)
    ca.createRequest({ name: 'from a' })
    cb.createRequest({ name: 'from b' })
    cb.createFolder({ name: 'folder b' }, { placement: { index: 0 } })
    syncAll(a!, b!)
    expect(ca.snapshot()).toEqual(cb.snapshot())
    expect(ca.snapshot().items.map((i) => i.name).sort()).toEqual(['folder b', 'from a', 'from b'])
    expect(ca.conflicts()).toEqual([])
  })

  test('open() of an empty doc gives an empty collection that fills in when the content arrives', () => {
    const [a, b] = docs(2)
    const cb = CollectionModel.open(b!)
    expect(cb.snapshot()).toMatchObject({ id: '', name: '', items: [], conflicts: [], problems: [] })
    const ca = CollectionModel.create(a!, { id: 'late', name: 'Late' })
    ca.createRequest({ name: 'r' })
    syncAll(a!, b!)
    expect(cb.id).toBe('late')
    expect(cb.snapshot()).toEqual(ca.snapshot())
  })
})
