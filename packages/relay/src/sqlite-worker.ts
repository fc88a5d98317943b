/**
 * The storage worker behind WorkerDocStore: owns a SqliteDocStore on a thread of its own, so that SQLite's
 * synchronous commits (and their fsync) never block the relay's event loop. Requests are handled one at a
 * time, in the order they arrive.
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { HistoryOption } from './history.js'
import { SqliteDocStore } from './sqlite-store.js'
import { unpackUpdates, type StoreCall, type StoreReply, type StoreRequest } from './store-messages.js'

const port = parentPort
if (!port) throw new Error('sqlite-worker.ts runs as a worker thread (see WorkerDocStore)')

const data = workerData as { dataDir: string; history: HistoryOption }
const store = new SqliteDocStore({ dataDir: data.dataDir, history: data.history })

function run(call: StoreCall): Promise<unknown> {
  switch (call.op) {
    case 'open': // the store opened (or failed to) before the first message
      return Promise.resolve()
    case 'load':
      return store.load(call.docName, call.after)
    case 'appendUpdates':
      return store.appendUpdates(unpackUpdates(call.packed), call.at)
    case 'historyBounds':
      return store.historyBounds(call.docName)
    case 'versions':
      return store.versions(call.docName, call.before, call.limit)
    case 'historyState':
      return store.historyState(call.docName, call.at, call.after)
    case 'activity':
      return store.activity(call.query)
    case 'maintainHistory':
      return store.maintainHistory(call.docName, call.now)
    case 'compact':
      return store.compact(call.docName, call.snapshot, call.upTo)
    case 'heads':
      return store.heads(call.docNames)
    case 'ping':
      return store.ping()
    case 'deleteDoc':
      return store.deleteDoc(call.docName)
    case 'deletePrefix':
      return store.deletePrefix(call.prefix)
    case 'listDocs':
      return store.listDocs(call.prefix)
    case 'close':
      return store.close()
  }
}

/** A loaded doc's (or a version's) buffers are the worker's own: move them to the main thread, not copy them. */
function transferable(value: unknown): ArrayBuffer[] {
  if (typeof value !== 'object' || value === null) return []
  const list = 'updates' in value ? (value as { updates: Uint8Array[] }).updates : 'parts' in value ? (value as { parts: Uint8Array[] }).parts : null
  if (!list) return []
  const buffers = new Set<ArrayBuffer>()
  for (const u of list) {
    if (u.buffer instanceof ArrayBuffer && u.byteOffset === 0 && u.byteLength === u.buffer.byteLength) buffers.add(u.buffer)
  }
  return [...buffers]
}

port.on('message', (request: StoreRequest) => {
  run(request).then(
    (value) => port.postMessage({ id: request.id, ok: true, value } as StoreReply, transferable(value)),
    (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err))
      const code = 'code' in e && typeof e.code === 'string' ? e.code : undefined
      port.postMessage({ id: request.id, ok: false, error: { name: e.name, message: e.message, code } } satisfies StoreReply)
    },
  )
})
