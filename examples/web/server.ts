/**
 * The demo in one process: builds the web app with Vite when its build is missing or older than its sources,
 * then serves it and the relay (dev auth, embedded SQLite) on one localhost port, and prints the URL.
 *
 *   tsx examples/web/server.ts [--port 8787] [--host 127.0.0.1] [--data ./data] [--build-only]
 *
 * The relay's Hono app answers its own routes (/sync/*, /dev/token, /sessions, /account, /history, /activity, /healthz, /metrics);
 * `POST /proxy` sends the app's requests to APIs (proxy.ts); every other GET is a file of the built app.
 * WebSocket upgrades go to the relay as startRelay does it.
 */
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import type { Socket } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createAdaptorServer } from '@hono/node-server'
import { serveStatic } from '@hono/node-server/serve-static'
import { type Logger, createJsonLogger, createRelay } from '@apisync/relay'
import { Hono } from 'hono'
import { type ProxyOptions, createProxy } from './proxy.js'
import { PROXY_PATH } from './src/proxy-protocol.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = resolve(HERE, '../..')
/** Sources the build depends on: the app's and the workspace packages' it bundles. */
const SOURCES = [join(HERE, 'src'), join(HERE, 'index.html'), join(HERE, 'sandbox.html'), join(HERE, 'public'), join(HERE, 'vite.config.ts'), ...['client', 'crypto', 'model', 'postman'].map((p) => join(ROOT, 'packages', p, 'src'))]
/**
 * The sandbox page that runs collection scripts (src/runner/sandbox-frame.ts): an opaque origin even when opened
 * directly (CSP sandbox), no network for the scripts (connect-src 'none', inherited by its blob: worker), eval
 * for the scripts only there. Its module script loads from an opaque origin, hence CORS on /assets.
 */
const SANDBOX_CSP = "sandbox allow-scripts; default-src 'none'; script-src 'self' 'unsafe-eval'; worker-src blob:; connect-src 'none'; img-src 'none'; style-src 'none'; form-action 'none'; base-uri 'none'"
const RELAY_PATHS = /^\/(sync\/|dev\/|sessions(\/|$)|account(\/|$)|history(\/|$)|activity$|healthz$|metrics$)/

export interface BuildOptions {
  /** Where the built app goes. Default examples/web/dist. */
  readonly outDir?: string
  /** Type-check the app (tsc) before bundling it. Default true. */
  readonly typecheck?: boolean
}

export interface WebServerOptions extends BuildOptions {
  /** Default 8787; 0 = a free port. */
  readonly port?: number
  /** Default 127.0.0.1. */
  readonly host?: string
  /** The relay's SQLite lives here. Default ./data. */
  readonly dataDir?: string
  /** `if-stale` (default): build when missing or older than the sources; `always`; `never`. */
  readonly build?: 'if-stale' | 'always' | 'never'
  readonly logger?: Logger
  /** The relay's connected-devices limit per account (default 3). */
  readonly maxDevices?: number
  /** Limits of the request proxy (see proxy.ts). */
  readonly proxy?: Pick<ProxyOptions, 'maxResponseBytes' | 'maxRequestBytes' | 'timeoutMs' | 'maxRedirects' | 'maxConcurrent'>
}

export interface WebServer {
  /** http://host:port: the app, and the relay's HTTP and WebSocket endpoints. */
  readonly url: string
  readonly port: number
  /** Graceful, like the relay's: commit, close sockets with 1012, stop listening. */
  close(): Promise<void>
}

const newest = (path: string): number => {
  if (!existsSync(path)) return 0
  const s = statSync(path)
  if (!s.isDirectory()) return s.mtimeMs
  let latest = s.mtimeMs
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)))
  return latest
}

/** True when the build in `outDir` is missing or older than a source file. */
export const isStale = (outDir = join(HERE, 'dist')): boolean => {
  const built = join(outDir, 'index.html')
  return !existsSync(built) || statSync(built).mtimeMs < Math.max(...SOURCES.map(newest))
}

/** Type-checks (tsc, as the app's tsconfig says) and bundles the app with Vite's JS API. */
export async function buildApp(options: BuildOptions = {}): Promise<void> {
  if (options.typecheck !== false) await typecheck()
  const { build } = await import('vite')
  // A production build wherever it runs (vitest sets NODE_ENV=test, which Vite would follow).
  const nodeEnv = process.env.NODE_ENV
  process.env.NODE_ENV = 'production'
  try {
    await build({
      configFile: join(HERE, 'vite.config.ts'),
      mode: 'production',
      logLevel: 'warn',
      ...(options.outDir ? { build: { outDir: options.outDir, emptyOutDir: true } } : {}),
    })
  } finally {
    process.env.NODE_ENV = nodeEnv
  }
}

function typecheck(): Promise<void> {
  const tsc = join(ROOT, 'node_modules', '.bin', 'tsc')
  return new Promise((resolvePromise, reject) => {
    const child = spawn(tsc, ['-p', join(HERE, 'tsconfig.json')], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolvePromise() : reject(new Error(`the web app does not type-check:\n${out}`))))
  })
}

export async function startWebServer(options: WebServerOptions = {}): Promise<WebServer> {
  const outDir = options.outDir ?? join(HERE, 'dist')
  const mode = options.build ?? 'if-stale'
  if (mode === 'always' || (mode === 'if-stale' && isStale(outDir))) await buildApp(options)

  const relay = createRelay({
    // Dev auth signs tokens with a random secret it keeps in the database.
    auth: {},
    devAuth: true,
    dataDir: options.dataDir ?? './data',
    logger: options.logger ?? createJsonLogger({ level: 'warn' }),
    ...(options.maxDevices !== undefined ? { maxDevices: options.maxDevices } : {}),
  })
  const site = new Hono()
  site.use(
    '*',
    serveStatic({
      root: outDir,
      onFound: (path, c) => {
        const asset = path.includes(`${join('assets', '')}`)
        c.header('Cache-Control', asset ? 'public, max-age=31536000, immutable' : 'no-cache')
        if (asset) c.header('Access-Control-Allow-Origin', '*')
        if (path.endsWith('sandbox.html')) c.header('Content-Security-Policy', SANDBOX_CSP)
      },
    }),
  )
  site.get('*', serveStatic({ root: outDir, path: 'index.html', onFound: (_path, c) => c.header('Cache-Control', 'no-cache') }))

  let allowHost: (host: string) => boolean = () => false
  const sessionCheck = liveSessions(relay.app)
  const proxy = createProxy({ ...options.proxy, allowHost: (h) => allowHost(h), authorize: sessionCheck })
  const server = createAdaptorServer({
    // `env` carries Node's request (and the WebSocket upgrade's) through to the relay's handlers.
    fetch: (request: Request, env: unknown) => {
      const path = new URL(request.url).pathname
      if (path === PROXY_PATH) return proxy(request)
      return RELAY_PATHS.test(path) ? relay.app.fetch(request, env) : site.fetch(request, env)
    },
    websocket: relay.websocket,
  })
  const sockets = new Set<Socket>()
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  const host = options.host ?? '127.0.0.1'
  try {
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject)
      server.listen(options.port ?? 8787, host, () => {
        server.off('error', reject)
        resolveListen()
      })
    })
  } catch (err) {
    await relay.close()
    throw err
  }
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 8787)
  // A loopback address: the client allows plain http/ws to loopback only.
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host
  const url = `http://${shown}:${port}`
  // The names the proxy answers to: the address listened on (a loopback one also as localhost). A wildcard
  // bind (0.0.0.0, ::) means the person opened the demo to their network: any Host, still same-origin only.
  const loopback = ['127.0.0.1', '::1', 'localhost'].includes(host) || host.startsWith('127.')
  const wildcard = host === '0.0.0.0' || host === '::'
  const names = new Set([`${host.includes(':') ? `[${host}]` : host}:${port}`, ...(loopback ? [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`] : [])])
  allowHost = wildcard ? (h) => h.endsWith(`:${port}`) : (h) => names.has(h)

  let closing: Promise<void> | null = null
  return {
    url,
    port,
    close: () =>
      (closing ??= (async () => {
        const stopped = new Promise<void>((r) => server.close(() => r()))
        await relay.close()
        const grace = setTimeout(() => sockets.forEach((s) => s.destroy()), 3_000)
        if ('closeIdleConnections' in server) server.closeIdleConnections()
        await stopped
        clearTimeout(grace)
      })()),
  }
}

/**
 * Whether a bearer token is a live session of this relay: what its own `GET /sessions` accepts (signature,
 * expiry, not revoked). Accepted tokens are remembered for a few seconds so a run does not ask per request.
 */
function liveSessions(app: Hono): (token: string) => Promise<boolean> {
  const accepted = new Map<string, number>()
  return async (token) => {
    const until = accepted.get(token)
    if (until !== undefined && until > Date.now()) return true
    const res = await app.fetch(new Request('http://relay/sessions', { headers: { authorization: `Bearer ${token}` } }))
    await res.body?.cancel()
    if (res.status !== 200) {
      accepted.delete(token)
      return false
    }
    if (accepted.size > 1000) accepted.clear()
    accepted.set(token, Date.now() + 5_000)
    return true
  }
}

// ------------------------------------------------------------------------------------------------- CLI

const flag = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : undefined
}

async function main(): Promise<void> {
  if (process.argv.includes('--build-only')) {
    await buildApp()
    process.stdout.write(`built ${join(HERE, 'dist')}\n`)
    return
  }
  const started = Date.now()
  const building = isStale()
  if (building) process.stdout.write('building the web app…\n')
  const web = await startWebServer({
    port: Number(flag('port') ?? process.env.PORT ?? 8787),
    host: flag('host') ?? process.env.HOST ?? '127.0.0.1',
    dataDir: flag('data') ?? process.env.APISYNC_DATA_DIR ?? './data',
  })
  process.stdout.write(
    `\n  apisync demo ready${building ? ` (built in ${((Date.now() - started) / 1000).toFixed(1)} s)` : ''}\n\n  ➜  ${web.url}\n\n  relay: dev sign-in on, data in ${resolve(flag('data') ?? process.env.APISYNC_DATA_DIR ?? './data')}\n  Open it in two browsers (or a private window) and sign in with the same name to see two devices sync.\n\n`,
  )
  let stopping = false
  const stop = () => {
    if (stopping) return
    stopping = true
    web.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(1)
  })
}
