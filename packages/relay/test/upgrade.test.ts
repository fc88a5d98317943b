/**
 * The sync upgrade: once a socket is open, the relay holds the connection only, not the HTTP request it came
 * from (@hono/node-server's listeners would keep the whole request context alive per socket).
 */
import type { IncomingMessage } from 'node:http'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterEach, expect, it } from 'vitest'
import type { WebSocket } from 'ws'
import { SyncClient, sleep, startTestRelay, type TestRelay } from './helpers.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

let relay: TestRelay | null = null
afterEach(async () => {
  await relay?.close()
  relay = null
})

it('keeps neither the upgrade request nor a second set of listeners per socket, and still relays both ways', async () => {
  relay = await startTestRelay()
  const requests: WeakRef<IncomingMessage>[] = []
  const sockets: WebSocket[] = []
  relay.running.relay.websocket.server.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    requests.push(new WeakRef(request))
    sockets.push(socket)
  })
  const token = await relay.token()
  const [a, b] = [await SyncClient.connect(relay.syncUrl('w1/up', token)), await SyncClient.connect(relay.syncUrl('w1/up', token))]
  await Promise.all([a.whenSynced(), b.whenSynced()])
  a.doc.getText('t').insert(0, 'from a')
  b.doc.getArray('l').push(['from b'])
  await eventuallyEqual(() => [b.doc.getText('t').toString(), a.doc.getArray('l').toJSON()], ['from a', ['from b']])

  expect(sockets).toHaveLength(2)
  for (const socket of sockets) {
    expect(socket.listenerCount('message')).toBe(1)
    expect(socket.listenerCount('close')).toBe(1)
    expect(socket.listenerCount('error')).toBe(1)
  }
  // No deref before collecting: a WeakRef read keeps its target alive until the end of that job.
  for (let i = 0; i < 4; i++) {
    gc()
    await sleep(20)
  }
  expect(requests.filter((r) => r.deref() !== undefined)).toHaveLength(0)

  a.close()
  b.close()
  await Promise.all([a.raw.closed, b.raw.closed])
})

async function eventuallyEqual(read: () => unknown, expected: unknown, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (JSON.stringify(read()) !== JSON.stringify(expected)) {
    if (Date.now() > deadline) expect(read()).toEqual(expected)
    await sleep(10)
  }
}
