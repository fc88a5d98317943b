/**
 * How the demo turns a request of the model into what it sends (examples/web/src/send.ts), and the variables it
 * uses (variables-in-use.ts, on the library's resolveVariables): precedence with local values, auth applied as
 * Postman applies it (and inherited), path variables, every body mode, secrets masked in what is shown.
 */
import { describe, expect, test } from 'vitest'
import * as Y from 'yjs'
import { CollectionModel, type RequestSnapshot, type Variable } from '@apisync/model'
import { buildRequest, effectiveAuth } from '../../examples/web/src/send.js'
import { type OpenScope, contextOf } from '../../examples/web/src/variables-in-use.js'

const variable = (key: string, value: string, over: Partial<Variable> = {}): Variable => ({ id: `v-${key}-${value}`, key, value, type: 'default', enabled: true, description: '', extra: {}, ...over })
const scope = (s: OpenScope['scope'], variables: Variable[], localValues?: Map<string, string>): OpenScope => ({
  scope: s,
  source: s,
  variables,
  lockedKeys: [],
  doc: s === 'globals' ? { kind: 'globals' } : s === 'collection' ? { kind: 'collection', id: 'c' } : { kind: 'environment', id: 'e' },
  ...(localValues ? { localValues } : {}),
})
const text = (b: Uint8Array | null) => new TextDecoder().decode(b ?? new Uint8Array())

function collection() {
  const model = CollectionModel.create(new Y.Doc(), { name: 'C' })
  return model
}

describe('building the request to send', () => {
  test('variables by precedence: local over shared, environment over collection over globals; unresolved ones stay and are named', async () => {
    const model = collection()
    const id = model.createRequest({ name: 'r', method: 'GET', url: { raw: '{{host}}/users/{{id}}?q={{q}}&n={{nope}}' } })
    const id2 = new Map([['v-id-1', '7']])
    const vars = contextOf(
      [
        scope('globals', [variable('host', 'http://globals'), variable('q', 'g')]),
        scope('collection', [variable('host', 'http://collection')]),
        scope('environment', [variable('host', 'http://env'), variable('id', '1'), variable('q', 'off', { enabled: false })], id2),
      ],
      {},
      'Env',
    )
    const built = await buildRequest(model, model.get(id) as never, vars)
    expect(built.url).toBe('http://env/users/7?q=g&n={{nope}}')
    expect(built.warnings).toEqual(['unresolved: {{nope}}'])
    expect(vars.info('id')).toMatchObject({ scope: 'environment', local: true, value: '7' })
    expect(vars.info('q')).toMatchObject({ scope: 'globals', local: false })
  })

  test('auth: basic, bearer, API key in header or query, OAuth 2 token; inherited from folder then collection; noauth stops inheritance', async () => {
    const model = collection()
    const vars = contextOf([scope('environment', [variable('user', 'ann'), variable('tok', 's3cret', { type: 'secret' })])])
    const folder = model.createFolder({ name: 'F', auth: { type: 'bearer', bearer: [{ key: 'token', value: '{{tok}}' }] } })
    const inFolder = model.createRequest({ name: 'a', url: { raw: 'http://x/a' } }, { parent: folder })
    const own = model.createRequest({ name: 'b', url: { raw: 'http://x/b' }, auth: { type: 'basic', basic: [{ key: 'username', value: '{{user}}' }, { key: 'password', value: 'pä' }] } }, { parent: folder })
    const none = model.createRequest({ name: 'c', url: { raw: 'http://x/c' }, auth: { type: 'noauth' } }, { parent: folder })
    const query = model.createRequest({ name: 'd', url: { raw: 'http://x/d?a=1' }, auth: { type: 'apikey', apikey: { key: 'api_key', value: '{{tok}}', in: 'query' } } })
    const header = model.createRequest({ name: 'e', url: { raw: 'http://x/e' }, headers: [{ key: 'X-Key', value: 'mine' }], auth: { type: 'apikey', apikey: [{ key: 'key', value: 'X-Key' }, { key: 'value', value: 'k' }] } })
    const oauth = model.createRequest({ name: 'f', url: { raw: 'http://x/f' }, auth: { type: 'oauth2', oauth2: [{ key: 'accessToken', value: 'at' }] } })
    const digest = model.createRequest({ name: 'g', url: { raw: 'http://x/g' }, auth: { type: 'digest', digest: [] } })
    model.updateCollection({ auth: { type: 'bearer', bearer: [{ key: 'token', value: 'collection-token' }] } })
    const top = model.createRequest({ name: 'h', url: { raw: 'http://x/h' } })
    const b = async (id: string) => buildRequest(model, model.get(id) as never, vars)
    expect((await b(inFolder)).headers).toEqual([['Authorization', 'Bearer s3cret']])
    expect(effectiveAuth(model, inFolder).from).toBe('folder “F”')
    expect((await b(own)).headers).toEqual([['Authorization', `Basic ${Buffer.from('ann:pä').toString('base64')}`]])
    expect((await b(none)).headers).toEqual([])
    const q = await b(query)
    expect(q.url).toBe('http://x/d?a=1&api_key=s3cret')
    expect(q.displayUrl).toBe('http://x/d?a=1&api_key=%E2%80%A2%E2%80%A2%E2%80%A2%E2%80%A2%E2%80%A2%E2%80%A2')
    expect((await b(header)).headers).toEqual([['X-Key', 'k']])
    expect((await b(oauth)).headers).toEqual([['Authorization', 'Bearer at']])
    expect((await b(digest)).warnings[0]).toMatch(/digest auth is not applied/)
    expect((await b(top)).headers).toEqual([['Authorization', 'Bearer collection-token']])
  })

  test('path variables, and secrets masked in the shown URL only', async () => {
    const model = collection()
    const vars = contextOf([scope('environment', [variable('id', 'a/b'), variable('key', 'k-123', { type: 'secret' })])])
    const id = model.createRequest({ name: 'r', url: { raw: 'http://x/users/:id/:missing?key={{key}}#:id' } })
    const req = model.get(id) as RequestSnapshot
    model.updateRow(id, 'pathVariables', req.url.variables.find((v) => v.key === 'id')!.id, { value: '{{id}}' })
    const built = await buildRequest(model, model.get(id) as never, vars)
    expect(built.url).toBe('http://x/users/a%2Fb/:missing?key=k-123#:id')
    expect(built.displayUrl).toBe('http://x/users/a%2Fb/:missing?key=••••••#:id')
  })

  test('bodies: raw with its content type, urlencoded, multipart form data, GraphQL (bad variables refused), none', async () => {
    const model = collection()
    const vars = contextOf([scope('environment', [variable('name', 'Ann & Bob')])])
    const raw = model.createRequest({ name: 'raw', method: 'POST', url: { raw: 'http://x' }, body: { mode: 'raw', raw: '{"n":"{{name}}"}', language: 'json' } })
    const form = model.createRequest({
      name: 'form',
      method: 'POST',
      url: { raw: 'http://x' },
      body: { mode: 'urlencoded', urlencoded: [{ key: 'n', value: '{{name}}' }, { key: 'off', value: '1', enabled: false }] },
    })
    const multi = model.createRequest({
      name: 'multi',
      method: 'POST',
      url: { raw: 'http://x' },
      headers: [{ key: 'Content-Type', value: 'text/plain' }],
      body: { mode: 'formdata', formdata: [{ key: 'n', value: '{{name}}', type: 'text' }, { key: 'f', type: 'file', src: '/home/me/a.png' }] },
    })
    const gql = model.createRequest({ name: 'gql', method: 'POST', url: { raw: 'http://x' }, body: { mode: 'graphql', graphql: { query: 'query { user(name: "{{name}}") { id } }', variables: '{"a": 1}', operationName: '' } } })
    const badGql = model.createRequest({ name: 'bad', method: 'POST', url: { raw: 'http://x' }, body: { mode: 'graphql', graphql: { query: '{ a }', variables: '{nope', operationName: '' } } })
    const b = async (id: string) => buildRequest(model, model.get(id) as never, vars)

    const r = await b(raw)
    expect(text(r.body)).toBe('{"n":"Ann & Bob"}')
    expect(r.headers).toEqual([['Content-Type', 'application/json']])
    const f = await b(form)
    expect(text(f.body)).toBe('n=Ann+%26+Bob')
    expect(f.headers).toEqual([['Content-Type', 'application/x-www-form-urlencoded']])
    const m = await b(multi)
    const ct = m.headers.find(([k]) => k === 'Content-Type')![1]
    expect(m.headers.filter(([k]) => k.toLowerCase() === 'content-type')).toHaveLength(1)
    expect(ct).toMatch(/^multipart\/form-data; boundary=/)
    expect(text(m.body)).toContain('name="n"\r\n\r\nAnn & Bob\r\n')
    expect(text(m.body)).toContain('name="f"; filename="a.png"')
    expect(m.warnings[0]).toMatch(/cannot read \/home\/me\/a\.png/)
    expect(JSON.parse(text((await b(gql)).body))).toEqual({ query: 'query { user(name: "Ann & Bob") { id } }', variables: { a: 1 } })
    await expect(b(badGql)).rejects.toThrow(/GraphQL variables are not valid JSON/)
    const none = model.createRequest({ name: 'none', url: { raw: 'http://x' } })
    expect((await b(none)).body).toBeNull()
  })
})
