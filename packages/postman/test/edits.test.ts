/** After an import, edits made through the model show in the export, and what they did not touch stays as it came. */
import { CollectionModel, type RequestSnapshot } from '@apisync/model'
import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import { SCHEMA_URL, exportCollection, exportEnvironment, importCollection, importEnvironment } from '@apisync/postman'
import { expectSameJson } from './fixtures.js'

const V20 = SCHEMA_URL['2.0.0']
const request = (m: CollectionModel, name: string) => {
  const find = (items: ReturnType<CollectionModel['snapshot']>['items']): RequestSnapshot | undefined => {
    for (const i of items) {
      if (i.kind === 'request' && i.name === name) return i
      if (i.kind === 'folder') {
        const r = find(i.items)
        if (r) return r
      }
    }
    return undefined
  }
  return find(m.snapshot().items)!
}
type Out = Record<string, any>

describe('edits after import', () => {
  const input = {
    info: { _postman_id: 'c1', name: 'Edits', schema: SCHEMA_URL['2.1.0'], _exporter_id: '42' },
    item: [
      {
        id: 'r1',
        name: 'get user',
        proxy: { host: 'proxy.local' },
        description: { content: 'Gets *one* user', type: 'text/markdown', version: '3' },
        event: [{ listen: 'test', script: { id: 'script-1', type: 'text/javascript', exec: ['pm.test("ok", () => {})'], packages: {} } }],
        request: {
          method: 'GET',
          url: {
            raw: '{{base}}/users/:id?expand=all',
            host: ['{{base}}'],
            path: ['users', ':id'],
            query: [{ key: 'expand', value: 'all', description: 'everything' }],
            variable: [{ key: 'id', value: '7', type: 'string' }],
          },
          header: 'Accept: application/json\nX-Trace: 1\n',
        },
        response: [],
      },
      { id: 'r2', name: 'ping', request: 'http://ping.local/health' },
    ],
  }

  it('writes edited values into the form they came in', () => {
    const m = importCollection(structuredClone(input))
    const r1 = request(m, 'get user')
    m.updateItem(r1.id, { name: 'get one user', method: 'HEAD', description: 'Gets **one** user' })
    m.editText(r1.id, 'test', 0, 0, '// checked\n')
    m.updateItem(request(m, 'ping').id, { method: 'POST' })
    const out = exportCollection(m) as Out
    const [item1, item2] = out.item
    expect(item1.name).toBe('get one user')
    expect(item1.proxy).toEqual({ host: 'proxy.local' })
    expect(item1.description).toEqual({ content: 'Gets **one** user', type: 'text/markdown', version: '3' })
    expect(item1.event).toEqual([
      { listen: 'test', script: { id: 'script-1', type: 'text/javascript', exec: ['// checked', 'pm.test("ok", () => {})'], packages: {} } },
    ])
    expect(item1.request.method).toBe('HEAD')
    // A request given as a string becomes an object once it has more than a URL.
    expect(item2.request).toEqual({ url: 'http://ping.local/health', method: 'POST' })
  })

  it('derives URL parts from an edited raw URL and keeps query row details', () => {
    const m = importCollection(structuredClone(input))
    const r1 = request(m, 'get user')
    m.updateItem(r1.id, { url: { raw: 'https://api.example.com:8443/v2/users/:id?expand=none&page=2' } })
    const url = (exportCollection(m) as Out).item[0].request.url
    expect(url).toEqual({
      raw: 'https://api.example.com:8443/v2/users/:id?expand=none&page=2',
      protocol: 'https',
      host: ['api', 'example', 'com'],
      port: '8443',
      path: ['v2', 'users', ':id'],
      query: [
        { key: 'expand', value: 'none', description: 'everything' },
        { key: 'page', value: '2' },
      ],
      variable: [{ key: 'id', value: '7', type: 'string' }],
    })
  })

  it('turns headers given as a string into rows once a row changes', () => {
    const m = importCollection(structuredClone(input))
    const r1 = request(m, 'get user')
    expect((exportCollection(m) as Out).item[0].request.header).toBe('Accept: application/json\nX-Trace: 1\n')
    m.updateRow(r1.id, 'headers', r1.headers[1]!.id, { enabled: false })
    m.addRow(r1.id, 'headers', { key: 'X-New', value: 'yes' })
    expect((exportCollection(m) as Out).item[0].request.header).toEqual([
      { key: 'Accept', value: 'application/json' },
      { key: 'X-Trace', value: '1', disabled: true },
      { key: 'X-New', value: 'yes' },
    ])
  })

  it('adds scripts, removes items, keeps v2.0 auth objects as objects', () => {
    const v20 = {
      info: { name: 'old', schema: V20 },
      item: [
        { name: 'a', request: { url: 'http://a', auth: { type: 'basic', basic: { username: 'u', password: 'p' } } } },
        { name: 'b', request: 'http://b' },
      ],
    }
    const m = importCollection(v20)
    const a = request(m, 'a')
    m.updateItem(a.id, {
      auth: { type: 'basic', basic: [{ key: 'username', value: 'root', type: 'string' }, { key: 'password', value: 'p', type: 'string' }] },
      scripts: { prerequest: 'pm.variables.set("x", 1)' },
    })
    m.delete(request(m, 'b').id)
    const out = exportCollection(m) as Out
    expect(out.item).toHaveLength(1)
    expect(out.item[0].request.auth).toEqual({ type: 'basic', basic: { username: 'root', password: 'p' } })
    expect(out.item[0].event).toEqual([{ listen: 'prerequest', script: { type: 'text/javascript', exec: ['pm.variables.set("x", 1)'] } }])
  })

  it('environments: edited values and flags', () => {
    const env = { id: 'e', name: 'Env', values: [{ key: 'a', value: '1', disabled: true }, { key: 'b', value: '2', type: 'text', enabled: true }], _postman_variable_scope: 'environment' }
    const m = importEnvironment(env)
    const [a, b] = m.snapshot().variables
    m.updateRow('variables', a!.id, { enabled: true })
    m.updateRow('variables', b!.id, { value: 'two', type: 'secret' })
    expect(exportEnvironment(m)).toEqual({
      ...env,
      values: [
        { key: 'a', value: '1', enabled: true },
        { key: 'b', value: 'two', type: 'secret', enabled: true },
      ],
    })
  })
})

describe('shapes from other replicas', () => {
  it('a malformed extra.postman is ignored, not trusted', () => {
    const m = CollectionModel.create(new Y.Doc(), { name: 'c', extra: { postman: { rest: 'x', form: 5, kept: [1], format: {} } } })
    m.createRequest({ name: 'r', url: { raw: 'http://x' }, extra: { postman: { rest: [1, 2], form: { request: 'bogus', scripts: { events: 'no' } }, kept: { name: 7 } } } })
    const out = exportCollection(m) as Out
    expect(out.info.name).toBe('c')
    expect(out.item).toEqual([{ name: 'r', request: { method: 'GET', url: { raw: 'http://x', protocol: 'http', host: ['x'] }, header: [] }, response: [] }])
  })
})

describe('made in apisync', () => {
  it('exports what Postman writes, and imports back to the same', () => {
    const m = CollectionModel.create(new Y.Doc(), {
      id: 'col-1',
      name: 'Made here',
      variables: [{ key: 'base', value: 'http://127.0.0.1:9' }],
      scripts: { prerequest: 'console.log(1)\nconsole.log(2)' },
    })
    const folder = m.createFolder({ name: 'users', auth: { type: 'bearer', bearer: [{ key: 'token', value: '{{t}}', type: 'string' }] } })
    m.createRequest(
      {
        name: 'list',
        method: 'GET',
        url: { raw: '{{base}}/users?page=1' },
        headers: [{ key: 'Accept', value: 'application/json' }, { key: 'X-Off', value: '1', enabled: false }],
        body: { mode: 'raw', raw: '{}', language: 'json' },
      },
      { parent: folder },
    )
    const out = exportCollection(m) as Out
    expect(out.info).toEqual({ _postman_id: 'col-1', name: 'Made here', schema: SCHEMA_URL['2.1.0'] })
    expect(out.event).toEqual([{ listen: 'prerequest', script: { type: 'text/javascript', exec: ['console.log(1)', 'console.log(2)'] } }])
    const list = out.item[0].item[0]
    expect(list.id).toEqual(expect.any(String))
    expect(list.request).toEqual({
      method: 'GET',
      url: { raw: '{{base}}/users?page=1', host: ['{{base}}'], path: ['users'], query: [{ key: 'page', value: '1' }] },
      header: [{ key: 'Accept', value: 'application/json' }, { key: 'X-Off', value: '1', disabled: true }],
      body: { mode: 'raw', raw: '{}', options: { raw: { language: 'json' } } },
    })
    expect(list.response).toEqual([])
    // Postman → apisync → Postman changes nothing more.
    expectSameJson(exportCollection(importCollection(out)), out)
    // As v2.0, auth params are objects.
    expect((exportCollection(m, { version: '2.0.0' }) as Out).item[0].auth).toEqual({ type: 'bearer', bearer: { token: '{{t}}' } })
  })
})
