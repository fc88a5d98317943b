/** Invalid inputs: a typed error naming the JSON path, and nothing written to the target doc. */
import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_LIMITS,
  type PostmanErrorCode,
  PostmanImportError,
  exportCollection,
  importCollection,
  importEnvironment,
  importGlobals,
  importNewmanReport,
  type ImportProgress,
} from '@apisync/postman'
import { CollectionModel, RunsModel } from '@apisync/model'
import { LARGEST, expectSameJson, readJson, readText } from './fixtures.js'

const V21 = 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json'
const EMPTY_STATE = Y.encodeStateAsUpdate(new Y.Doc())

/** Runs an import that must fail; returns the error after checking that the doc was left untouched. */
const refused = (run: (doc: Y.Doc) => unknown, code: PostmanErrorCode, path?: string): PostmanImportError => {
  const doc = new Y.Doc()
  let error: unknown
  try {
    run(doc)
  } catch (e) {
    error = e
  }
  expect(error).toBeInstanceOf(PostmanImportError)
  const e = error as PostmanImportError
  expect(e.code).toBe(code)
  if (path !== undefined) expect(e.path).toBe(path)
  expect(e.message).toContain(e.path)
  expect(Y.encodeStateAsUpdate(doc)).toEqual(EMPTY_STATE)
  return e
}

const collectionWith = (item: unknown[]) => ({ info: { name: 'c', schema: V21 }, item })

describe('refusals', () => {
  it('truncated JSON: INVALID_JSON with the line and column', () => {
    const text = readText('postmanlabs__postman-collection__digest.json')
    for (const cut of [1, 100, 2000, text.length - 2]) {
      const e = refused((doc) => importCollection(text.slice(0, cut), { doc }), 'INVALID_JSON', '$')
      expect(e.detail).toMatch(/line \d+, column \d+/)
    }
    refused((doc) => importCollection('\uFEFF{"info": {"name": "x"},', { doc }), 'INVALID_JSON')
    refused((doc) => importCollection('', { doc }), 'INVALID_JSON')
    refused((doc) => importCollection(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), { doc }), 'INVALID_JSON')
  })

  const wrongTypes: [string, unknown, string][] = [
    ['item is not a list', { info: { name: 'c' }, item: {} }, '$.item'],
    ['an item is not an object', collectionWith([{ name: 'a', request: 'http://a' }, 'b']), '$.item[1]'],
    ['a folder item list is not a list', collectionWith([{ name: 'f', item: 'x' }]), '$.item[0].item'],
    ['a URL is a number', collectionWith([{ name: 'a', request: 'x' }, { name: 'b', request: { url: 5 } }]), '$.item[1].request.url'],
    ['a request is a number', collectionWith([{ name: 'f', item: [{ name: 'r', request: 3 }] }]), '$.item[0].item[0].request'],
    [
      'a header deep down is a number',
      collectionWith([{ name: 'f', item: [{ name: 'g', item: [{}, {}, { name: 'r', request: { url: 'u', header: [{ key: 'a', value: 'b' }, 7] } }] }] }]),
      '$.item[0].item[0].item[2].request.header[1]',
    ],
    ['a header flag is a string', collectionWith([{ request: { url: 'u', header: [{ key: 'a', value: 'b', disabled: 'yes' }] } }]), '$.item[0].request.header[0].disabled'],
    ['a query key is a number', collectionWith([{ request: { url: { raw: 'u', query: [{ key: 1 }] } } }]), '$.item[0].request.url.query[0].key'],
    ['a body mode is a number', collectionWith([{ request: { url: 'u', body: { mode: 5 } } }]), '$.item[0].request.body.mode'],
    ['a form row is a string', collectionWith([{ request: { url: 'u', body: { mode: 'formdata', formdata: ['a=b'] } } }]), '$.item[0].request.body.formdata[0]'],
    ['an event list is an object', collectionWith([{ name: 'a', event: {}, request: 'u' }]), '$.item[0].event'],
    ['an event has no listen', collectionWith([{ name: 'a', event: [{ script: { exec: [] } }], request: 'u' }]), '$.item[0].event[0].listen'],
    ['script lines are numbers', { info: { name: 'c' }, event: [{ listen: 'test', script: { exec: [1, 2] } }], item: [] }, '$.event[0].script.exec'],
    ['a response is a string', collectionWith([{ request: 'u', response: ['ok'] }]), '$.item[0].response[0]'],
    ['an auth has no type', { info: { name: 'c' }, auth: { basic: [] }, item: [] }, '$.auth.type'],
    ['a variable key is a number', { info: { name: 'c' }, variable: [{ key: 5, value: 'x' }], item: [] }, '$.variable[0].key'],
    ['a method has a space', collectionWith([{ request: { url: 'u', method: 'GET /' } }]), '$.item[0].request.method'],
    ['a description content is a number', collectionWith([{ name: 'f', item: [], description: { content: 1 } }]), '$.item[0].description.content'],
    ['the name is a number', { info: { name: 42 }, item: [] }, '$.info.name'],
    ['a key is "__proto__"', collectionWith([{ request: 'u', _meta: JSON.parse('{"__proto__": {"x": 1}}') }]), '$.item[0]._meta.__proto__'],
    ['a number is not finite', collectionWith([{ request: 'u', x: Number.NaN }]), '$.item[0].x'],
  ]
  for (const [name, input, path] of wrongTypes) {
    it(`wrong type at depth: ${name} → INVALID_SHAPE at ${path}`, () => {
      refused((doc) => importCollection(input as never, { doc }), 'INVALID_SHAPE', path)
    })
  }

  it('a problem in the last of 1,077 requests leaves the doc untouched', () => {
    const big = readJson(LARGEST) as { item: { item?: unknown[] }[] }
    const last = big.item[big.item.length - 1]!
    ;(last.item ?? big.item).push({ name: 'broken', request: { url: 'u', header: 'x', body: { mode: [] } } })
    const e = refused((doc) => importCollection(big as never, { doc }), 'INVALID_SHAPE')
    expect(e.path).toMatch(/^\$\.item\[\d+\]\.item\[\d+\]\.request\.body\.mode$/)
  })

  it('50-level nesting: TOO_DEEP, whether folders or values', () => {
    let folder: object = { name: 'leaf', request: 'http://x' }
    for (let i = 0; i < 50; i++) folder = { name: `f${i}`, item: [folder] }
    refused((doc) => importCollection(collectionWith([folder]) as never, { doc }), 'TOO_DEEP')
    let value: unknown = 'bottom'
    for (let i = 0; i < 50; i++) value = [value]
    const e = refused((doc) => importCollection({ ...collectionWith([]), deep: value } as never, { doc }), 'TOO_DEEP')
    expect(e.path).toMatch(/^\$\.deep(\[0\])+$/)
    refused((doc) => importEnvironment({ name: 'e', values: [{ key: 'k', value }] } as never, { doc }), 'TOO_DEEP')
  })

  it('nesting up to the limit imports, everywhere the model keeps it', () => {
    const nest = (levels: number): unknown => (levels === 0 ? 'bottom' : { a: nest(levels - 1) })
    const max = 56
    // The value is placed so that the whole file is exactly `max` levels deep.
    const input = {
      info: { name: 'c', schema: V21, x: nest(max - 2) },
      x: nest(max - 1),
      variable: [{ key: 'v', value: nest(max - 3) }],
      item: [
        {
          name: 'r',
          x: nest(max - 3),
          request: {
            x: nest(max - 4),
            url: { raw: 'http://x', host: ['x'], protocol: 'http', x: nest(max - 5), query: [{ key: 'q', value: 'v', x: nest(max - 7) }] },
            header: [{ key: 'h', value: 'v', x: nest(max - 6) }],
            body: { mode: 'raw', raw: '', x: nest(max - 5) },
            auth: { type: 'bearer', bearer: [{ key: 'token', value: nest(max - 7), type: 'any' }] },
          },
          response: [{ name: 'x', originalRequest: nest(max - 5), cookie: [nest(max - 6)], x: nest(max - 5) }],
          event: [{ listen: 'test', script: { exec: [], x: nest(max - 6) } }],
        },
      ],
    }
    const model = importCollection(input as never, { limits: { maxDepth: 1000 } })
    expectSameJson(exportCollection(model), input)
    expect(model.snapshot().problems).toEqual([])
    refused((doc) => importCollection({ ...input, y: nest(max) } as never, { doc, limits: { maxDepth: 1000 } }), 'TOO_DEEP')
  })

  it('huge strings and inputs: TOO_LARGE', () => {
    const huge = 'x'.repeat(DEFAULT_LIMITS.maxStringLength + 1)
    refused((doc) => importCollection(collectionWith([{ name: 'r', request: { url: 'u', body: { mode: 'raw', raw: huge } } }]) as never, { doc }), 'TOO_LARGE', '$.item[0].request.body.raw')
    refused((doc) => importCollection({ info: { name: 'c' }, item: [], [huge]: 1 } as never, { doc }), 'TOO_LARGE', '$')
    refused((doc) => importCollection(JSON.stringify(collectionWith([])), { doc, limits: { maxLength: 20 } }), 'TOO_LARGE', '$')
    refused((doc) => importCollection(collectionWith([{ name: 'x'.repeat(101) }]) as never, { doc, limits: { maxStringLength: 100 } }), 'TOO_LARGE', '$.item[0].name')
    // Below the limit, a large body is fine.
    const big = collectionWith([{ name: 'r', request: { url: 'u', method: 'POST', body: { mode: 'raw', raw: 'y'.repeat(4_000_000) } } }])
    expectSameJson(exportCollection(importCollection(big as never)), big)
  })

  it('the wrong kind of file, or a v1 collection', () => {
    const env = { name: 'e', values: [] }
    refused((doc) => importCollection(env as never, { doc }), 'WRONG_KIND')
    refused((doc) => importCollection([] as never, { doc }), 'WRONG_KIND')
    refused((doc) => importCollection(readText('postmanlabs__newman__sample-collection-report.json'), { doc }), 'WRONG_KIND')
    refused((doc) => importEnvironment(collectionWith([]) as never, { doc }), 'WRONG_KIND')
    refused((doc) => importEnvironment([] as never, { doc }), 'WRONG_KIND')
    refused((doc) => importGlobals('"globals"', { doc }), 'INVALID_SHAPE', '$')
    refused((doc) => importCollection({ name: 'old', order: [], requests: [] } as never, { doc }), 'UNSUPPORTED_VERSION')
  })

  it('a doc that already holds something: TARGET_NOT_EMPTY, and it stays as it was', () => {
    const doc = new Y.Doc()
    importCollection(collectionWith([]) as never, { doc })
    const before = Y.encodeStateAsUpdate(doc)
    const e = (() => {
      try {
        importCollection(collectionWith([]) as never, { doc })
      } catch (err) {
        return err as PostmanImportError
      }
      return undefined
    })()
    expect(e?.code).toBe('TARGET_NOT_EMPTY')
    expect(Y.encodeStateAsUpdate(doc)).toEqual(before)
  })

  it('newman reports: wrong shapes named by path, nothing appended', () => {
    const report = readJson('postmanlabs__newman__sample-collection-report.json') as { run: Record<string, unknown> }
    const runs = RunsModel.open(new Y.Doc())
    const bad = (mutate: (r: { run?: Record<string, any> }) => void, path: string) => {
      const r = structuredClone(report)
      mutate(r)
      let error: unknown
      try {
        importNewmanReport(r as never, runs)
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(PostmanImportError)
      expect((error as PostmanImportError).path).toBe(path)
    }
    bad((r) => delete r.run, '$.run')
    bad((r) => (r.run!.stats.requests.total = -1), '$.run.stats.requests.total')
    bad((r) => (r.run!.timings.started = 'yesterday'), '$.run.timings.started')
    bad((r) => (r.run!.executions[1].response.code = '200'), '$.run.executions[1].response.code')
    bad((r) => (r.run!.executions[2].assertions = [1]), '$.run.executions[2].assertions[0]')
    expect(runs.snapshot().runs).toEqual([])
  })
})

describe('progress', () => {
  it('reports both phases, in order, up to the total', () => {
    const seen: ImportProgress[] = []
    importCollection(readText(LARGEST), { onProgress: (p) => seen.push(p) })
    const total = seen[0]!.total
    expect(total).toBe(1077 + 196)
    expect(seen[0]).toEqual({ phase: 'read', done: 0, total })
    expect(seen.at(-1)).toEqual({ phase: 'write', done: total, total })
    const phases = seen.map((p) => p.phase)
    expect(phases.indexOf('write')).toBeGreaterThan(phases.lastIndexOf('read'))
    for (let i = 1; i < seen.length; i++) if (seen[i]!.phase === seen[i - 1]!.phase) expect(seen[i]!.done).toBeGreaterThanOrEqual(seen[i - 1]!.done)
    expect(seen.length).toBeGreaterThan(8)
  })

  it('a callback that throws while reading stops the import; while writing, the import completes first', () => {
    const text = readText(LARGEST)
    const stop = new Error('stop')
    const doc = new Y.Doc()
    expect(() => importCollection(text, { doc, onProgress: (p) => { if (p.done > 300) throw stop } })).toThrow(stop)
    expect(Y.encodeStateAsUpdate(doc)).toEqual(EMPTY_STATE)
    const doc2 = new Y.Doc()
    expect(() => importCollection(text, { doc: doc2, onProgress: (p) => { if (p.phase === 'write' && p.done > 300) throw stop } })).toThrow(stop)
    expectSameJson(exportCollection(CollectionModel.open(doc2)), readJson(LARGEST))
  })
})
