/** A stock, unmodified y-websocket WebsocketProvider syncs through the relay. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { eventually, startTestRelay, type TestRelay } from '../../packages/relay/test/helpers.js'

let relay: TestRelay
const providers: WebsocketProvider[] = []

beforeEach(async () => {
  relay = await startTestRelay()
})
afterEach(async () => {
  for (const p of providers.splice(0)) {
    p.destroy()
    p.doc.destroy()
  }
  await relay.close()
})

function provider(docName: string, token: string, doc = new Y.Doc()): WebsocketProvider {
  const p = new WebsocketProvider(`${relay.running.wsUrl}/sync`, docName, doc, {
    params: { token },
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
  })
  providers.push(p)
  return p
}

const synced = (p: WebsocketProvider) =>
  new Promise<void>((resolve) => {
    if (p.synced) resolve()
    else p.once('sync', (s: boolean) => s && resolve())
  })

describe('stock y-websocket provider', () => {
  it('syncs a doc to the relay and from it to a second provider, and the relay stores it', async () => {
    const token = await relay.token()
    const a = provider('w1/collection/c1', token)
    await synced(a)
    a.doc.getMap('requests').set('r1', 'GET https://example.com')
    a.doc.getText('script').insert(0, 'pm.test()')

    const b = provider('w1/collection/c1', await relay.token({ sid: 'alice-phone' }))
    await synced(b)
    await eventually(() => b.doc.getMap('requests').get('r1') === 'GET https://example.com', 5000, 'b has a’s data')
    expect(b.doc.getText('script').toString()).toBe('pm.test()')

    const stored = await relay.storedDoc('w1/collection/c1')
    expect(stored.getMap('requests').get('r1')).toBe('GET https://example.com')
    expect(stored.getText('script').toString()).toBe('pm.test()')
  })

  it('converges two providers editing concurrently, live', async () => {
    const a = provider('w1/globals', await relay.token())
    const b = provider('w1/globals', await relay.token({ sid: 'alice-phone' }))
    await Promise.all([synced(a), synced(b)])
    for (let i = 0; i < 50; i++) {
      a.doc.getArray<string>('rows').push([`a${i}`])
      b.doc.getArray<string>('rows').push([`b${i}`])
    }
    a.doc.getText('t').insert(0, 'from a ')
    b.doc.getText('t').insert(0, 'from b ')
    await eventually(
      () => a.doc.getArray('rows').length === 100 && b.doc.getArray('rows').length === 100 && a.doc.getText('t').length === 14 && b.doc.getText('t').length === 14,
      5000,
      'both have 100 rows',
    )
    expect(a.doc.getArray('rows').toJSON()).toEqual(b.doc.getArray('rows').toJSON())
    expect(a.doc.getText('t').toString()).toBe(b.doc.getText('t').toString())
    const stored = await relay.storedDoc('w1/globals')
    expect(stored.getArray('rows').toJSON()).toEqual(a.doc.getArray('rows').toJSON())
  })

  it('relays awareness between providers', async () => {
    const a = provider('w1/manifest', await relay.token())
    const b = provider('w1/manifest', await relay.token({ sid: 'alice-phone' }))
    await Promise.all([synced(a), synced(b)])
    a.awareness.setLocalStateField('user', { name: 'Alice' })
    await eventually(() => b.awareness.getStates().get(a.doc.clientID)?.user?.name === 'Alice', 5000, 'awareness')
    a.destroy()
    await eventually(() => !b.awareness.getStates().has(a.doc.clientID), 5000, 'awareness removed when a leaves')
  })

  it('keeps a viewer read-only: its edit is refused with permission-denied, it still receives live updates', async () => {
    const owner = provider('w1/environment/e1', await relay.token())
    await synced(owner)
    owner.doc.getMap('vars').set('host', 'api.example.com')

    const viewerToken = await relay.token({ sub: 'bob', sid: 'bob-laptop', ws: { w1: 'viewer' } })
    const viewer = provider('w1/environment/e1', viewerToken)
    const denied: string[] = []
    const originalWarn = console.warn
    console.warn = (...args: unknown[]) => void denied.push(args.join(' '))
    try {
      await synced(viewer)
      await eventually(() => viewer.doc.getMap('vars').get('host') === 'api.example.com', 5000, 'viewer reads')
      viewer.doc.getMap('vars').set('host', 'evil.example.com')
      await eventually(() => denied.some((d) => d.includes('Permission denied')), 5000, 'permission denied reaches the stock client')
    } finally {
      console.warn = originalWarn
    }
    // Still connected and still receiving.
    owner.doc.getMap('vars').set('port', '443')
    await eventually(() => viewer.doc.getMap('vars').get('port') === '443', 5000, 'viewer receives live updates')
    expect(viewer.wsconnected).toBe(true)
    expect(owner.doc.getMap('vars').get('host')).toBe('api.example.com')
    const stored = await relay.storedDoc('w1/environment/e1')
    expect(stored.getMap('vars').get('host')).toBe('api.example.com')
  })
})
