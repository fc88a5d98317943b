/** Synthetic documents for the benchmarks. */
import { randomBytes } from 'node:crypto'
import * as Y from 'yjs'

const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const

const newId = (): string => randomBytes(12).toString('base64url')

/**
 * A collection-like Y.Doc: `requests` is a Y.Map of `count` request maps, each with a name,
 * method, url, a Y.Array of three header rows (Y.Maps with an id, key and value) and a JSON
 * body in a Y.Text. Ids are random, 16 characters, like the model's.
 */
export const buildRequestsDoc = (count: number, perTransaction = count): Y.Doc => {
  const doc = new Y.Doc()
  const requests = doc.getMap<Y.Map<unknown>>('requests')
  for (let start = 0; start < count; start += perTransaction) addRequests(doc, requests, start, Math.min(count, start + perTransaction))
  return doc
}

/**
 * The same doc as a list of updates of `perUpdate` requests each, as an editor would have sent
 * them, so that seeding it through a client stays under a server's message size limit.
 */
export const buildRequestsUpdates = (count: number, perUpdate = 500): Uint8Array[] => {
  const updates: Uint8Array[] = []
  const doc = new Y.Doc()
  doc.on('update', (update: Uint8Array) => updates.push(update))
  const requests = doc.getMap<Y.Map<unknown>>('requests')
  for (let start = 0; start < count; start += perUpdate) addRequests(doc, requests, start, Math.min(count, start + perUpdate))
  doc.destroy()
  return updates
}

const addRequests = (doc: Y.Doc, requests: Y.Map<Y.Map<unknown>>, from: number, to: number): void => {
  doc.transact(() => {
    for (let i = from; i < to; i++) {
      const request = new Y.Map<unknown>()
      requests.set(newId(), request)
      request.set('name', `Request ${i}: list items of resource ${i % 97}`)
      request.set('method', methods[i % methods.length])
      request.set('url', `https://api.example.com/v1/resources/${i % 97}/items?page=${i % 10}&limit=50`)
      const headers = new Y.Array<Y.Map<unknown>>()
      request.set('headers', headers)
      headers.push(
        [
          ['Accept', 'application/json'],
          ['Authorization', 'Bearer {{token}}'],
          ['X-Request-Id', `{{$guid}}-${i}`],
        ].map(([key, value]) => {
          const row = new Y.Map<unknown>()
          row.set('id', newId())
          row.set('key', key)
          row.set('value', value)
          return row
        }),
      )
      const body = new Y.Text()
      request.set('body', body)
      body.insert(0, JSON.stringify({ id: i, name: `item ${i}`, active: i % 2 === 0 }))
    }
  })
}

export const requestCount = (doc: Y.Doc): number => doc.getMap('requests').size
