import { describe, expect, test } from 'vitest'
import { CollectionModel, EnvironmentModel, WorkspaceModel } from '@apisync/model'
import { docs, expectRefused } from './helpers.js'

/** A collection `c` with folder `f`, request `r` (one header `h`) and saved response `s`. */
const setup = () => {
  const [doc] = docs(1)
  const m = CollectionModel.create(doc!, { id: 'c', name: 'S' })
  m.createFolder({ id: 'f', name: 'F' })
  m.createRequest({ id: 'r', name: 'R', headers: [{ id: 'h', key: 'A' }] })
  m.addResponse('r', { id: 's', name: 'ok' })
  return { doc: doc!, m }
}

describe('invalid writes throw a ModelError naming the value and write nothing', () => {
  const cases: [string, (m: CollectionModel) => unknown, string, string | RegExp][] = [
    ['request method with a space', (m) => m.updateItem('r', { method: 'GET ME' }), 'INVALID_VALUE', 'request:r/method'],
    ['empty method', (m) => m.updateItem('r', { method: '' }), 'INVALID_VALUE', 'request:r/method'],
    ['url that is not a string', (m) => m.updateItem('r', { url: { raw: 5 as never } }), 'INVALID_VALUE', 'request:r/url'],
    ['auth that is an array', (m) => m.updateItem('r', { auth: [] as never }), 'INVALID_VALUE', 'request:r/auth'],
    ['auth holding a function', (m) => m.updateItem('r', { auth: { type: 'x', f: (() => 1) as never } }), 'INVALID_VALUE', 'request:r/auth'],
    ['body mode that is a number', (m) => m.updateItem('r', { body: { mode: 1 as never } }), 'INVALID_VALUE', 'request:r/bodyMode'],
    ['raw body that is not a string', (m) => m.updateItem('r', { body: { raw: {} as never } }), 'INVALID_VALUE', 'request:r/bodyRaw'],
    ['script that is not a string', (m) => m.updateItem('r', { scripts: { test: null as never } }), 'INVALID_VALUE', 'request:r/test'],
    ['extra that is not an object', (m) => m.updateItem('r', { extra: 'x' as never }), 'INVALID_VALUE', 'request:r/extra'],
    ['protocolProfileBehavior that is a string', (m) => m.updateItem('r', { protocolProfileBehavior: 'x' as never }), 'INVALID_VALUE', 'request:r/protocolProfileBehavior'],
    ['a list in an update', (m) => m.updateItem('r', { headers: [] } as never), 'INVALID_VALUE', 'request:r/headers'],
    ['a field the kind lacks', (m) => m.updateItem('f', { method: 'GET' } as never), 'INVALID_VALUE', 'folder:f'],
    ['a patch that is not an object', (m) => m.updateItem('r', null as never), 'INVALID_VALUE', 'request:r'],
    ['a folder name that is a number', (m) => m.updateItem('f', { name: 3 as never }), 'INVALID_VALUE', 'folder:f/name'],
    ['a collection name that is null', (m) => m.updateCollection({ name: null as never }), 'INVALID_VALUE', 'collection:c/name'],
    ['a collection version that is not JSON', (m) => m.updateCollection({ version: Number.NaN }), 'INVALID_VALUE', 'collection:c/version'],
    ['a response code of 1000', (m) => m.updateResponse('s', { code: 1000 }), 'INVALID_VALUE', 'response:s/code'],
    ['a response code that is a string', (m) => m.updateResponse('s', { code: '200' as never }), 'INVALID_VALUE', 'response:s/code'],
    ['a negative response time', (m) => m.updateResponse('s', { responseTime: -1 }), 'INVALID_VALUE', 'response:s/responseTime'],
    ['cookies that are not an array', (m) => m.updateResponse('s', { cookies: {} as never }), 'INVALID_VALUE', 'response:s/cookies'],
    ['a new request with a bad header row', (m) => m.createRequest({ headers: [{ key: 'a' }, { key: 1 as never }] }), 'INVALID_VALUE', 'request/headers[1]/key'],
    ['a new request with a bad form row', (m) => m.createRequest({ body: { formdata: [{ enabled: 'no' as never }] } }), 'INVALID_VALUE', 'request/formdata[0]/enabled'],
    ['a new request whose id exists', (m) => m.createRequest({ id: 'r' }), 'INVALID_VALUE', 'request:r'],
    ['a new folder under a request', (m) => m.createFolder({}, { parent: 'r' }), 'WRONG_KIND', 'request:r'],
    ['a response for a folder', (m) => m.addResponse('f', {}), 'WRONG_KIND', 'folder:f'],
    ['a response with a bad code', (m) => m.addResponse('r', { code: -5 }), 'INVALID_VALUE', 'response/code'],
    ['a response whose id exists', (m) => m.addResponse('r', { id: 's' }), 'INVALID_VALUE', 'response:s'],
    ['an edit of an unknown item', (m) => m.updateItem('nope', { name: 'x' }), 'NOT_FOUND', 'item:nope'],
    ['an edit of an unknown response', (m) => m.updateResponse('nope', { name: 'x' }), 'NOT_FOUND', 'item:nope'],
    ['a text edit out of range', (m) => m.editText('r', 'test', 5, 0, 'x'), 'INVALID_VALUE', 'request:r/test'],
    ['a text edit with a negative count', (m) => m.editText('r', 'test', 0, -1), 'INVALID_VALUE', 'request:r/test'],
    ['a text a folder lacks', (m) => m.editText('f', 'bodyRaw', 0, 0, 'x'), 'INVALID_VALUE', 'folder:f'],
    ['a header row with a bad value', (m) => m.updateRow('r', 'headers', 'h', { value: 1 }), 'INVALID_VALUE', 'request:r/headers/value'],
    ['a list a folder lacks', (m) => m.addRow('f', 'query', { key: 'x' }), 'INVALID_VALUE', 'folder:f'],
  ]
  test.each(cases)('%s', (_, write, code, path) => {
    const { doc, m } = setup()
    // The error's path names where the bad value is (for a header row: its list).
    expectRefused(doc, () => write(m), code as never, path)
  })

  test('moves and deletes of deleted items are refused with DELETED; edits are kept (a delete conflict)', () => {
    const { doc, m } = setup()
    m.delete('r')
    m.deleteResponse('s')
    expectRefused(doc, () => m.move('r', { parent: null }), 'DELETED')
    expectRefused(doc, () => m.delete('r'), 'DELETED')
    m.delete('f')
    expectRefused(doc, () => m.createRequest({}, { parent: 'f' }), 'DELETED')
    expectRefused(doc, () => m.deleteResponse('s'), 'DELETED', 'response:s')
    expectRefused(doc, () => m.restore('nope'), 'NOT_FOUND', 'item:nope')
    expect(m.conflicts()).toEqual([])
    m.updateItem('r', { name: 'x' })
    m.editText('r', 'test', 0, 0, 'x')
    m.addRow('r', 'headers', { key: 'x' })
    m.updateResponse('s', { name: 'x' })
    expect(m.get('r')).toBeUndefined()
    expect(m.getDeleted('r')).toMatchObject({ name: 'x', scripts: { test: 'x' } })
    expect(m.conflicts().map((c) => [c.kind, c.entityId])).toEqual([
      ['delete', 'r'],
      ['delete', 's'],
    ])
  })

  test('a creation with an invalid value writes nothing at all, not even the doc header', () => {
    const [doc] = docs(1)
    expect(() => CollectionModel.create(doc!, { name: 5 as never })).toThrow(expect.objectContaining({ code: 'INVALID_VALUE', path: 'collection/name' }))
    expect(() => EnvironmentModel.create(doc!, { variables: [{ type: 1 as never }] })).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }))
    expect(() => WorkspaceModel.create(doc!, { headerPresets: [{ headers: [{ enabled: 0 as never }] }] })).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }))
    expect(doc!.store.clients.size).toBe(0)
  })

  test('errors are ModelErrors with a readable message that includes the path', () => {
    const { m } = setup()
    try {
      m.updateItem('r', { method: 'NOT OK' })
      expect.unreachable()
    } catch (e) {
      expect(e).toMatchObject({ name: 'ModelError', code: 'INVALID_VALUE', path: 'request:r/method' })
      expect((e as Error).message).toMatch(/method must be an HTTP method token \(at request:r\/method\)/)
    }
  })
})
