/**
 * Property: any collection-shaped JSON either imports and exports back exactly (directly and through a Yjs
 * replica), or is refused with a PostmanImportError leaving the target doc empty.
 * POSTMAN_PROPERTY_RUNS=5000 runs longer and prints why inputs were refused.
 */
import { CollectionModel, EnvironmentModel, type ItemSnapshot } from '@apisync/model'
import fc from 'fast-check'
import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import { PostmanImportError, exportCollection, exportEnvironment, importCollection, importEnvironment } from '@apisync/postman'
import { expectSameJson } from './fixtures.js'

const RUNS = Number(process.env.POSTMAN_PROPERTY_RUNS ?? 150)
const V20 = 'https://schema.getpostman.com/json/collection/v2.0.0/collection.json'
const V21 = 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json'

const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined })
const str = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.constantFrom('', '{{var}}', 'a\nb', 'x\r\ny', ' spaced ', 'ü', '__proto__', 'constructor'),
)
const json = fc.jsonValue({ maxDepth: 2 })
/** Unknown keys and known ones with odd values, added to an object. */
const extras = fc.dictionary(
  fc.constantFrom('_postman_id', 'id', 'x-extra', '_meta', 'proxy', 'certificate', 'equals', 'system', 'src'),
  json,
  { maxKeys: 2 },
)
const withExtras = <T extends object>(arb: fc.Arbitrary<T>) => fc.tuple(arb, extras).map(([o, e]) => ({ ...e, ...o }))

const description = fc.oneof(
  str,
  fc.constant(null),
  fc.record({ content: str, type: fc.constantFrom('text/plain', 'text/markdown'), version: str }, { requiredKeys: [] }),
)
const urlString = fc
  .tuple(
    fc.constantFrom('', 'http://', 'https://', 'file:///', '{{baseUrl}}'),
    fc.constantFrom('', 'example.com', 'u:p@host:8080', 'a.b.c', '{{host}}', '[::1]:80'),
    fc.array(fc.constantFrom('a', ':id', '{{seg}}', '', 'b.c', '\\x'), { maxLength: 3 }),
    fc.option(fc.array(fc.constantFrom('k=v', 'k', '=v', 'a=b=c', '', '{{q}}={{v}}'), { maxLength: 3 })),
    fc.option(fc.constantFrom('h', '', '{{frag}}')),
  )
  .map(([scheme, host, path, query, hash]) => {
    let u = scheme + host + (path.length ? `/${path.join('/')}` : '')
    if (query) u += `?${query.join('&')}`
    if (hash !== null) u += `#${hash}`
    return u
  })
const keyValue = withExtras(
  fc.record(
    {
      key: fc.oneof(str, fc.constant(null)),
      value: fc.oneof(str, fc.constant(null)),
      disabled: fc.boolean(),
      description,
    },
    { requiredKeys: [] },
  ),
)
const headers = fc.oneof(
  fc.array(keyValue, { maxLength: 3 }),
  fc.array(fc.tuple(str, str).map(([k, v]) => `${k}: ${v}`), { maxLength: 3 }).map((lines) => lines.join('\n')),
)
const url = fc.oneof(
  urlString,
  withExtras(
    fc.record(
      {
        raw: urlString,
        protocol: fc.constantFrom('http', 'https'),
        host: fc.oneof(str, fc.array(str, { maxLength: 2 })),
        port: fc.constantFrom('80', '8443'),
        path: fc.oneof(str, fc.array(str, { maxLength: 2 })),
        hash: str,
        query: fc.array(keyValue, { maxLength: 3 }),
        variable: fc.array(withExtras(fc.record({ key: str, value: fc.oneof(str, fc.integer()), description }, { requiredKeys: [] })), { maxLength: 2 }),
      },
      { requiredKeys: [] },
    ),
  ),
)
const params = fc.oneof(
  fc.array(fc.record({ key: str, value: fc.oneof(str, fc.boolean(), fc.integer()), type: fc.constantFrom('string', 'any', 'boolean') }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(str, fc.boolean(), fc.integer()), { maxKeys: 3 }),
)
const auth = fc.oneof(
  fc.constant(null),
  fc.record({ type: fc.constantFrom('basic', 'bearer', 'noauth', 'quantum') }).chain((a) =>
    fc.record({ type: fc.constant(a.type), [a.type]: params, other: params }, { requiredKeys: ['type'] }),
  ),
)
const formRow = withExtras(
  fc.record(
    {
      key: str,
      value: str,
      type: fc.constantFrom('text', 'file', 'weird'),
      src: fc.oneof(str, fc.array(str, { maxLength: 2 }), fc.constant(null)),
      contentType: str,
      disabled: fc.boolean(),
      description,
    },
    { requiredKeys: [] },
  ),
)
const body = fc.oneof(
  fc.constant(null),
  withExtras(
    fc.record(
      {
        mode: fc.constantFrom('raw', 'urlencoded', 'formdata', 'file', 'graphql', 'carrier-pigeon'),
        raw: str,
        options: fc.oneof(fc.record({ raw: fc.record({ language: fc.constantFrom('json', 'xml', '') }) }), fc.dictionary(str, json, { maxKeys: 1 })),
        urlencoded: fc.array(keyValue, { maxLength: 2 }),
        formdata: fc.array(formRow, { maxLength: 2 }),
        file: fc.oneof(fc.record({ src: str }), fc.constant(null)),
        graphql: fc.record({ query: str, variables: fc.oneof(str, fc.dictionary(str, json, { maxKeys: 1 })), operationName: str }, { requiredKeys: [] }),
        disabled: fc.boolean(),
      },
      { requiredKeys: [] },
    ),
  ),
)
const event = withExtras(
  fc.record(
    {
      listen: fc.constantFrom('test', 'prerequest', 'beforeQuery'),
      script: fc.oneof(
        str,
        withExtras(fc.record({ exec: fc.oneof(str, fc.array(str, { maxLength: 3 })), type: fc.constant('text/javascript'), packages: fc.constant({}) }, { requiredKeys: [] })),
      ),
      disabled: fc.boolean(),
    },
    { requiredKeys: ['listen'] },
  ),
)
const events = fc.array(event, { maxLength: 3 })
const variables = fc.array(
  withExtras(
    fc.record(
      { key: str, id: str, value: json, type: fc.constantFrom('string', 'secret', 'default', 'any'), disabled: fc.boolean(), enabled: fc.boolean(), description },
      { requiredKeys: [] },
    ),
  ),
  { maxLength: 3 },
)
const request = fc.oneof(
  urlString,
  withExtras(
    fc.record(
      { method: fc.constantFrom('GET', 'POST', 'get', 'PROPFIND'), url, header: headers, headers, body, auth, description },
      { requiredKeys: [] },
    ),
  ),
)
const response = withExtras(
  fc.record(
    {
      name: str,
      originalRequest: fc.oneof(urlString, json),
      status: str,
      code: fc.oneof(fc.integer({ min: 100, max: 599 }), fc.constant(null), fc.constant('200'), fc.constant(1200)),
      header: fc.oneof(headers, fc.constant(null), fc.array(fc.constantFrom('A: 1', 'B:2', 'nocolon'), { maxLength: 2 })),
      cookie: fc.array(fc.dictionary(str, json, { maxKeys: 2 }), { maxLength: 2 }),
      body: fc.oneof(str, fc.constant(null)),
      responseTime: fc.oneof(fc.nat(), fc.constant(null), fc.constant('12')),
    },
    { requiredKeys: [] },
  ),
)
const ppb = fc.dictionary(fc.constantFrom('disableBodyPruning', 'followRedirects', 'maxRedirects'), json, { maxKeys: 2 })

const { item } = fc.letrec<{ item: object; folder: object; requestItem: object }>((tie) => ({
  item: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('requestItem'), tie('folder')),
  requestItem: withExtras(
    fc.record(
      {
        name: str,
        id: fc.constantFrom('r1', 'r2', 'dup'),
        description,
        request,
        response: fc.array(response, { maxLength: 2 }),
        event: events,
        protocolProfileBehavior: ppb,
        variable: variables,
      },
      { requiredKeys: [] },
    ),
  ),
  folder: withExtras(
    fc.record(
      {
        name: str,
        description,
        item: fc.array(tie('item'), { maxLength: 3 }),
        auth,
        event: events,
        variable: variables,
        variables,
        protocolProfileBehavior: ppb,
      },
      { requiredKeys: ['item'] },
    ),
  ),
}))

const collection = withExtras(
  fc.record(
    {
      info: withExtras(
        fc.record({ name: str, schema: fc.constantFrom(V20, V21, 'weird'), _postman_id: str, description, version: json }, { requiredKeys: [] }),
      ),
      item: fc.array(item, { maxLength: 4 }),
      variable: variables,
      variables,
      event: events,
      auth,
      protocolProfileBehavior: ppb,
    },
    { requiredKeys: [] },
  ),
)

describe('lossless or refused', () => {
  it('collections', () => {
    let imported = 0
    let refused = 0
    const reasons = new Map<string, number>()
    fc.assert(
      fc.property(collection, (c) => {
        const text = JSON.stringify(c)
        const input = JSON.parse(text)
        const doc = new Y.Doc()
        let model: CollectionModel
        try {
          model = importCollection(text, { doc })
        } catch (e) {
          if (!(e instanceof PostmanImportError)) throw e
          expect(doc.store.clients.size).toBe(0)
          const reason = `${e.code}: ${e.detail.replace(/, got .*/, '')} at ${e.path.replace(/\[\d+\]/g, '[]')}`
          reasons.set(reason, (reasons.get(reason) ?? 0) + 1)
          refused++
          return
        }
        imported++
        expectSameJson(exportCollection(model), input)
        const replica = new Y.Doc()
        Y.applyUpdate(replica, Y.encodeStateAsUpdate(doc))
        expectSameJson(exportCollection(CollectionModel.open(replica)), input)
      }),
      { numRuns: RUNS },
    )
    if (process.env.POSTMAN_PROPERTY_RUNS) console.log({ imported, refused }, reasons)
    // The generator is meant to hit the import path mostly, not the refusals.
    expect(imported).toBeGreaterThan(refused)
  }, 120_000)

  it('after random edits, an export imports and exports back to itself', () => {
    type Edit = { kind: 'name' | 'raw' | 'description' | 'test' | 'header' | 'method'; pick: number; text: string }
    const edit = fc.record({
      kind: fc.constantFrom('name', 'raw', 'description', 'test', 'header', 'method'),
      pick: fc.nat(),
      text: fc.oneof(str, urlString),
    }) as fc.Arbitrary<Edit>
    fc.assert(
      fc.property(collection, fc.array(edit, { maxLength: 5 }), (c, edits) => {
        let model: CollectionModel
        try {
          model = importCollection(JSON.stringify(c))
        } catch (e) {
          if (e instanceof PostmanImportError) return
          throw e
        }
        const all: ItemSnapshot[] = []
        const visit = (items: readonly ItemSnapshot[]) => items.forEach((i) => (all.push(i), i.kind === 'folder' && visit(i.items)))
        visit(model.snapshot().items)
        for (const e of edits) {
          const item = all[e.pick % Math.max(1, all.length)]
          if (!item) break
          if (e.kind === 'name') model.updateItem(item.id, { name: e.text })
          else if (e.kind === 'description') model.updateItem(item.id, { description: e.text })
          else if (e.kind === 'test') model.editText(item.id, 'test', 0, 0, e.text)
          else if (item.kind !== 'request') continue
          else if (e.kind === 'raw') model.updateItem(item.id, { url: { raw: e.text } })
          else if (e.kind === 'method') model.updateItem(item.id, { method: 'PATCH' })
          else if (item.headers[0]) model.updateRow(item.id, 'headers', item.headers[0].id, { enabled: !item.headers[0].enabled })
          else model.addRow(item.id, 'headers', { key: 'X-Added', value: e.text })
        }
        const once = exportCollection(model)
        expectSameJson(exportCollection(importCollection(JSON.stringify(once))), JSON.parse(JSON.stringify(once)))
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    )
  }, 120_000)

  it('environments', () => {
    const environment = withExtras(fc.record({ id: str, name: str, values: variables, _postman_variable_scope: fc.constant('environment') }, { requiredKeys: [] }))
    fc.assert(
      fc.property(environment, (env) => {
        const text = JSON.stringify(env)
        const doc = new Y.Doc()
        let model: EnvironmentModel
        try {
          model = importEnvironment(text, { doc })
        } catch (e) {
          if (!(e instanceof PostmanImportError)) throw e
          expect(doc.store.clients.size).toBe(0)
          return
        }
        expectSameJson(exportEnvironment(model), JSON.parse(text))
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    )
  }, 120_000)
})
