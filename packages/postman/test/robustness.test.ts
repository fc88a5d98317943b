/** Inputs in every form Postman files come in: what the model holds, and that export gives them back. */
import type { FolderSnapshot, RequestSnapshot } from '@apisync/model'
import { describe, expect, it } from 'vitest'
import { exportCollection, exportEnvironment, exportGlobals, importCollection, importEnvironment, importGlobals } from '@apisync/postman'
import { expectSameJson } from './fixtures.js'

const V21 = 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json'
const V20 = 'https://schema.getpostman.com/json/collection/v2.0.0/collection.json'

const collection = (item: unknown[], extra: object = {}) => ({ info: { name: 'c', schema: V21 }, item, ...extra })

/** Imports, checks the round trip, and returns the first request of the model. */
const roundTrip = (input: object) => {
  const model = importCollection(input as never)
  expectSameJson(exportCollection(model), input)
  return model
}
const firstRequest = (input: object): RequestSnapshot => {
  const items = roundTrip(input).snapshot().items
  const find = (list: typeof items): RequestSnapshot | undefined => {
    for (const i of list) {
      if (i.kind === 'request') return i
      const r = find(i.items)
      if (r) return r
    }
    return undefined
  }
  return find(items)!
}

describe('input forms', () => {
  it('reads text with a UTF-8 BOM, and UTF-8 bytes with or without one', () => {
    const input = collection([{ name: 'r', request: { method: 'GET', url: 'http://x/ü' } }])
    const text = JSON.stringify(input)
    for (const source of [`\uFEFF${text}`, new TextEncoder().encode(`\uFEFF${text}`), new TextEncoder().encode(text)]) {
      expectSameJson(exportCollection(importCollection(source)), input)
    }
  })

  it('takes a request given as a plain string as a GET of that URL, and writes it back as a string', () => {
    const r = firstRequest(collection([{ name: 'r', request: 'https://api.example.com/users/:id?page=2&q' }]))
    expect(r.method).toBe('GET')
    expect(r.url.raw).toBe('https://api.example.com/users/:id?page=2&q')
    expect(r.url.query.map((q) => [q.key, q.value])).toEqual([
      ['page', '2'],
      ['q', ''],
    ])
    expect(r.url.variables.map((v) => v.key)).toEqual(['id'])
  })

  it('splits headers given as one string into rows, and writes the same string back', () => {
    const header = 'Content-Type: application/json\r\nAuthorization: Hawk id="x", ts="1"\r\n'
    const r = firstRequest(collection([{ name: 'r', request: { url: 'http://x', method: 'POST', header } }]))
    expect(r.headers.map((h) => [h.key, h.value, h.enabled])).toEqual([
      ['Content-Type', 'application/json', true],
      ['Authorization', 'Hawk id="x", ts="1"', true],
    ])
  })

  it('keeps url.raw, the URL parts as given, and the URL as a string or an object', () => {
    const url = {
      raw: '{{baseUrl}}/v1/:kind/items?limit=10&offset',
      host: ['{{baseUrl}}'],
      path: ['v1', ':kind', 'items'],
      query: [
        { key: 'limit', value: '10' },
        { key: 'offset', value: null },
        { key: 'debug', value: 'true', disabled: true, description: 'off by default' },
      ],
      variable: [{ key: 'kind', value: 'books', description: { content: 'what', type: 'text/plain' } }],
    }
    const r = firstRequest(collection([{ name: 'obj', request: { method: 'GET', url } }]))
    expect(r.url.raw).toBe(url.raw)
    expect(r.url.query.map((q) => [q.key, q.value, q.enabled, q.description])).toEqual([
      ['limit', '10', true, ''],
      ['offset', '', true, ''],
      ['debug', 'true', false, 'off by default'],
    ])
    expect(r.url.variables.map((v) => [v.key, v.value, v.description])).toEqual([['kind', 'books', 'what']])
    // Parts that differ from what the raw URL gives (a host given as a string, no raw at all) survive too.
    const odd = { protocol: 'https', host: 'sub.example.com.', port: '8443', path: 'path/to/document', description: 'nice' }
    const s = firstRequest(collection([{ name: 'odd', request: { url: odd } }]))
    expect(s.url.raw).toBe('https://sub.example.com.:8443/path/to/document')
  })

  it('takes a collection with no schema (format from its auth params), no info, or no items', () => {
    const v20 = { info: { name: 'old' }, item: [{ name: 'r', request: { url: 'http://x', auth: { type: 'basic', basic: { username: 'u', password: 'p' } } } }] }
    const r = firstRequest(v20)
    expect(r.auth).toEqual({
      type: 'basic',
      basic: [
        { key: 'username', value: 'u', type: 'string' },
        { key: 'password', value: 'p', type: 'string' },
      ],
    })
    expect(exportCollection(importCollection(v20), { version: '2.1.0' })).toMatchObject({
      info: { schema: V21 },
      item: [{ request: { auth: { basic: [{ key: 'username', value: 'u', type: 'string' }, { key: 'password' }] } } }],
    })
    roundTrip({ info: { name: 'no items' } })
    roundTrip({ item: [] })
    roundTrip({ item: [{ name: 'r', request: 'http://x' }] })
  })

  it('keeps unknown auth types and body modes, and unknown keys anywhere', () => {
    const input = collection(
      [
        {
          name: 'r',
          _my_meta: { deep: [1, { x: null }] },
          request: {
            method: 'PROPFIND',
            url: 'http://x',
            auth: { type: 'quantum', quantum: [{ key: 'qubits', value: 3, type: 'number' }], unrelated: true },
            body: { mode: 'carrier-pigeon', 'carrier-pigeon': { weight: '2kg' }, disabled: true },
            certificate: { name: 'c' },
          },
          response: [],
        },
      ],
      { _postman_exported_using: 'Postman/11', 'x-custom': { a: [] } },
    )
    const r = firstRequest(input)
    expect(r.method).toBe('PROPFIND')
    expect(r.auth?.type).toBe('quantum')
    expect(r.body.mode).toBe('carrier-pigeon')
  })

  it('reads every body mode into the model', () => {
    const items = [
      { name: 'raw', request: { url: 'u', method: 'POST', body: { mode: 'raw', raw: '{"a":1}', options: { raw: { language: 'json' } } } } },
      {
        name: 'form',
        request: {
          url: 'u',
          method: 'POST',
          body: {
            mode: 'formdata',
            formdata: [
              { key: 'a', value: '1', type: 'text' },
              { key: 'f', src: ['/a.csv', '/b.csv'], type: 'file', contentType: 'text/csv', disabled: true },
            ],
          },
        },
      },
      { name: 'urlenc', request: { url: 'u', method: 'POST', body: { mode: 'urlencoded', urlencoded: [{ key: 'k', value: 'v', type: 'text' }] } } },
      { name: 'file', request: { url: 'u', method: 'POST', body: { mode: 'file', file: { src: '/x.bin' } } } },
      { name: 'gql', request: { url: 'u', method: 'POST', body: { mode: 'graphql', graphql: { query: '{ me { id } }', variables: '{"a":1}' } } } },
      { name: 'empty', request: { url: 'u', method: 'POST', body: {} } },
      { name: 'null', request: { url: 'u', method: 'POST', body: null } },
    ]
    const s = roundTrip(collection(items)).snapshot()
    const [raw, form, urlenc, file, gql, empty, nul] = s.items as RequestSnapshot[]
    expect([raw!.body.mode, raw!.body.raw, raw!.body.language]).toEqual(['raw', '{"a":1}', 'json'])
    expect(form!.body.formdata.map((f) => [f.key, f.type, f.value, f.src, f.contentType, f.enabled])).toEqual([
      ['a', 'text', '1', null, '', true],
      ['f', 'file', '', ['/a.csv', '/b.csv'], 'text/csv', false],
    ])
    expect(urlenc!.body.urlencoded.map((u) => [u.key, u.value])).toEqual([['k', 'v']])
    expect(file!.body.file).toEqual({ src: '/x.bin' })
    expect(gql!.body.graphql).toEqual({ query: '{ me { id } }', variables: '{"a":1}', operationName: '' })
    expect([empty!.body.mode, nul!.body.mode]).toEqual([null, null])
  })

  it('keeps descriptions as strings, objects, null, empty or absent', () => {
    const items = [
      { name: 'a', description: { content: '*md*', type: 'text/markdown', version: '1' }, request: 'http://a' },
      { name: 'b', description: null, request: { url: 'http://b', description: '' } },
      { name: 'c', description: 'item', request: { url: 'http://c', description: { content: 'request', type: 'text/plain' } } },
      { name: 'd', description: { type: 'text/plain' }, item: [] },
    ]
    const s = roundTrip(collection(items)).snapshot()
    expect(s.items.map((i) => i.description)).toEqual(['*md*', '', 'request', ''])
  })

  it('keeps scripts: exec as lines or one string, ids, types, other listeners, script references', () => {
    const event = [
      { listen: 'test', id: 'e1', script: { id: 's1', type: 'text/javascript', exec: ['pm.test("a", () => {})', '', '// end'] } },
      { listen: 'prerequest', script: { type: 'text/javascript', exec: 'console.log(1)\r\nconsole.log(2)', packages: {} } },
      { listen: 'test', script: 'shared-script-id' },
      { listen: 'test', script: { exec: ['second test script'] } },
      { listen: 'beforeQuery', script: { exec: [] } },
    ]
    const r = firstRequest(collection([{ name: 'r', event, request: 'http://x' }]))
    expect(r.scripts).toEqual({ test: 'pm.test("a", () => {})\n\n// end', prerequest: 'console.log(1)\r\nconsole.log(2)' })
    // Lines that contain line breaks themselves, and empty line lists.
    roundTrip(collection([{ name: 'r', event: [{ listen: 'test', script: { exec: ['a\nb', 'c'] } }, { listen: 'prerequest', script: { exec: [''] } }], request: 'http://x' }]))
    roundTrip(collection([{ name: 'r', event: [{ listen: 'test', script: { exec: [] } }], request: 'http://x' }]))
  })

  it('keeps disabled rows, secret types, null, missing and empty values apart', () => {
    const input = collection(
      [
        {
          name: 'r',
          request: {
            url: { raw: 'http://x?a', host: ['x'], protocol: 'http', query: [{ key: 'a', value: null }, { key: null, value: 'v' }, { key: 'e', value: '' }] },
            method: 'GET',
            header: [
              { key: 'A', value: '1', disabled: true },
              { key: 'B', value: '2', disabled: false },
              { key: 'C', value: '3', type: 'text', description: '' },
              { key: 'D', value: '' },
            ],
          },
          response: [
            { name: 'ok', originalRequest: { method: 'GET', url: 'http://x' }, status: 'OK', code: 200, header: null, cookie: [], body: null },
            { name: 'old', status: 'OK', code: 200, header: 'X: 1\n', cookie: [{ key: 'k', value: 'v', expires: 'never', _postman_storeId: '0' }], responseTime: '12', body: '' },
          ],
        },
      ],
      {
        variable: [
          { key: 'token', value: 's3cr3t', type: 'secret' },
          { key: 'off', value: 1, disabled: true },
          { id: 'legacy', value: null, type: 'string' },
          { key: 'noValue' },
        ],
      },
    )
    const model = roundTrip(input)
    const s = model.snapshot()
    expect(s.variables.map((v) => [v.key, v.value, v.type, v.enabled])).toEqual([
      ['token', 's3cr3t', 'secret', true],
      ['off', 1, 'default', false],
      ['legacy', null, 'string', true],
      ['noValue', '', 'default', true],
    ])
    const r = s.items[0] as RequestSnapshot
    expect(r.headers.map((h) => [h.key, h.enabled])).toEqual([
      ['A', false],
      ['B', true],
      ['C', true],
      ['D', true],
    ])
    expect(r.responses.map((x) => [x.name, x.code, x.body, x.headers.length, x.cookies.length, x.responseTime])).toEqual([
      ['ok', 200, '', 0, 0, null],
      ['old', 200, '', 1, 1, null],
    ])
    expect(r.responses[0]!.originalRequest).toEqual({ method: 'GET', url: 'http://x' })
  })

  it('keeps item ids, duplicate ones included, and protocolProfileBehavior at every level', () => {
    const input = {
      info: { name: 'c', schema: V20, _postman_id: 'abc' },
      protocolProfileBehavior: { disableBodyPruning: true },
      item: [
        { id: 'same', name: 'one', request: 'http://1', protocolProfileBehavior: { followRedirects: false } },
        { id: 'same', name: 'two', request: 'http://2' },
        { _postman_id: 'f', name: 'folder', item: [], protocolProfileBehavior: { maxRedirects: 3 }, auth: { type: 'noauth' } },
      ],
    }
    const s = roundTrip(input).snapshot()
    expect(s.protocolProfileBehavior).toEqual({ disableBodyPruning: true })
    expect(s.items[0]!.id).toBe('same')
    expect(s.items[1]!.id).not.toBe('same')
    expect(s.items[2]!.id).toBe('f')
    expect((s.items[2] as FolderSnapshot).protocolProfileBehavior).toEqual({ maxRedirects: 3 })
  })
})

describe('environments and globals', () => {
  it('keeps enabled and disabled, types, ids and _postman_ keys', () => {
    const env = {
      id: 'e1',
      name: 'Env',
      values: [
        { key: 'a', value: '1', type: 'default', enabled: true },
        { key: 'b', value: '2', disabled: true },
        { key: 'c', value: 'x', type: 'secret', enabled: false },
        { key: 'n', value: 3, type: 'any' },
      ],
      _postman_variable_scope: 'environment',
      _postman_exported_at: '2024-01-01T00:00:00.000Z',
    }
    const model = importEnvironment(env)
    expect(model.snapshot().variables.map((v) => [v.key, v.value, v.type, v.enabled])).toEqual([
      ['a', '1', 'default', true],
      ['b', '2', 'default', false],
      ['c', 'x', 'secret', false],
      ['n', 3, 'any', true],
    ])
    expectSameJson(exportEnvironment(model), env)
  })

  it('takes globals as an object or as the older bare array', () => {
    const arr = [{ key: 'g', value: 'v', type: 'text', name: 'g', enabled: true }]
    const g = importGlobals(arr)
    expect(g.snapshot().name).toBe('Globals')
    expectSameJson(exportGlobals(g), arr)
    // Renamed, bare array globals become an object, which is where a name can go.
    g.update({ name: 'Team globals' })
    expect(exportGlobals(g)).toMatchObject({ name: 'Team globals', values: arr, _postman_variable_scope: 'globals' })
    const obj = { name: 'G', values: [], _postman_variable_scope: 'globals' }
    expectSameJson(exportGlobals(importGlobals(obj)), obj)
  })
})
