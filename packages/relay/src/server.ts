/** startRelay: createRelay on a Node HTTP(S) server, listening. */
import { readFileSync } from 'node:fs'
import { createServer as createHttpsServer } from 'node:https'
import type { Socket } from 'node:net'
import { createAdaptorServer } from '@hono/node-server'
import { createRelay, type Relay, type RelayOptions } from './relay.js'

export interface StartRelayOptions extends RelayOptions {
  /** Default 0: a free port chosen by the OS (see RunningRelay.port). */
  port?: number
  /** Default '127.0.0.1'; use '0.0.0.0' to accept connections from other machines. */
  host?: string
  /** Serve HTTPS and WSS: PEM contents or paths to PEM files. */
  tls?: { cert: string; key: string }
}

export interface RunningRelay {
  /** http(s)://host:port */
  url: string
  /** ws(s)://host:port — sync URL: `${wsUrl}/sync/${docName}?token=…` */
  wsUrl: string
  port: number
  relay: Relay
  /** Graceful: stop accepting, commit, close sockets with 1012, wait for them (at most a few seconds). */
  close(): Promise<void>
}

const CLOSE_GRACE_MS = 3_000

export async function startRelay(options: StartRelayOptions): Promise<RunningRelay> {
  const relay = createRelay(options)
  try {
    await relay.ready
  } catch (err) {
    await relay.close().catch(() => {})
    throw err
  }
  const host = options.host ?? '127.0.0.1'
  const tls = options.tls ? { cert: pemOrFile(options.tls.cert), key: pemOrFile(options.tls.key) } : null
  const server = createAdaptorServer({
    fetch: relay.app.fetch,
    websocket: relay.websocket,
    ...(tls ? { createServer: createHttpsServer, serverOptions: tls } : {}),
  })
  // Every socket, upgraded ones included (the HTTP server forgets those), to cut what is left at shutdown.
  const sockets = new Set<Socket>()
  const forget = function (this: Socket) {
    sockets.delete(this)
  } // one listener for all sockets: an idle connection costs no closure
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', forget)
  })
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (err) {
    await relay.close()
    throw err
  }
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0)
  const shownHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host
  const authority = `${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`

  let closing: Promise<void> | null = null
  const close = () =>
    (closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
      await relay.close()
      // Sockets got their 1012 close frame; give clients a moment to answer, then cut what is left.
      const grace = setTimeout(() => {
        for (const socket of sockets) socket.destroy()
      }, CLOSE_GRACE_MS)
      if ('closeIdleConnections' in server) server.closeIdleConnections()
      await stopped
      clearTimeout(grace)
    })())

  return { url: `${tls ? 'https' : 'http'}://${authority}`, wsUrl: `${tls ? 'wss' : 'ws'}://${authority}`, port, relay, close }
}

function pemOrFile(value: string): string {
  return value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8')
}
