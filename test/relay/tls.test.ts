/** HTTPS and WSS served by the relay itself (--tls-cert/--tls-key), with a self-signed certificate. */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { get } from 'node:https'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { signToken, startRelay, silentLogger } from '@apisync/relay'
import { RawClient, SECRET, eventually, tempDir } from '../../packages/relay/test/helpers.js'
import { spawnRelay, type RelayProcess } from './spawn-relay.js'

let dir: string
let cert: string
let relay: RelayProcess

beforeAll(async () => {
  dir = await tempDir()
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: 'ignore' })
  cert = readFileSync(join(dir, 'cert.pem'), 'utf8')
  relay = await spawnRelay(
    ['--port', '0', '--data', join(dir, 'data'), '--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')],
    { APISYNC_JWT_SECRET: SECRET },
  )
})

afterAll(async () => {
  relay.child.kill('SIGTERM')
  await relay.exited
  await rm(dir, { recursive: true, force: true })
})

const httpsJson = (url: string) =>
  new Promise<{ status: number; body: unknown }>((resolve, reject) => {
    get(url, { ca: cert }, (res) => {
      let text = ''
      res.on('data', (d) => (text += d))
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }))
    }).on('error', reject)
  })

describe('TLS', () => {
  it('serves HTTPS: /healthz over a verified connection', async () => {
    expect(relay.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    expect(relay.wsUrl).toMatch(/^wss:\/\//)
    expect(await httpsJson(`${relay.url}/healthz`)).toMatchObject({ status: 200, body: { status: 'ok' } })
  })

  it('serves WSS: a stock y-websocket provider syncs, and a certificate it does not trust is refused', async () => {
    const token = await signToken({ sub: 'a', sid: 's', ws: { w1: 'owner' } }, { secret: SECRET })
    class TrustingWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { ca: cert })
      }
    }
    const docs = [new Y.Doc(), new Y.Doc()]
    const providers = docs.map(
      (doc) =>
        new WebsocketProvider(`${relay.wsUrl}/sync`, 'w1/secure', doc, {
          params: { token },
          WebSocketPolyfill: TrustingWebSocket as unknown as typeof globalThis.WebSocket,
          disableBc: true,
        }),
    )
    docs[0].getText('t').insert(0, 'over tls')
    await eventually(() => docs[1].getText('t').toString() === 'over tls', 5000, 'sync over wss')
    providers.forEach((p) => p.destroy())
    docs.forEach((d) => d.destroy())

    await expect(RawClient.connect(`${relay.wsUrl}/sync/w1/secure?token=${token}`)).rejects.toThrow(/self.signed|certificate/i)
  })

  it('startRelay takes PEM contents too', async () => {
    const running = await startRelay({
      auth: { secret: SECRET },
      dataDir: join(dir, 'data2'),
      logger: silentLogger,
      tls: { cert, key: readFileSync(join(dir, 'key.pem'), 'utf8') },
    })
    try {
      expect(running.url.startsWith('https://')).toBe(true)
      expect((await httpsJson(`${running.url}/healthz`)).status).toBe(200)
    } finally {
      await running.close()
    }
  })
})
