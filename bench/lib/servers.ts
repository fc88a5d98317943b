/**
 * Parent side of the server child processes: start a server (the apisync relay or a peer) on a
 * free loopback port in a process of its own, and describe how clients reach it.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { ChildMessage, ChildRequest, CpuSample, MemorySample } from './child.js'

export type ServerKind = 'apisync' | 'y-websocket' | 'hocuspocus'

export const serverKinds: readonly ServerKind[] = ['apisync', 'y-websocket', 'hocuspocus']

/** How a client speaks to a server: the y-websocket protocol, or Hocuspocus' document-addressed framing. */
export type Framing = 'y-websocket' | 'hocuspocus'

export interface Target {
  readonly kind: ServerKind
  readonly framing: Framing
  /** WebSocket URL for one client of `docName`; `token` and `ack` are used by the relay only */
  url(docName: string, options: { token?: string; ack?: boolean }): string
  /** The relay's JWT secret (HS256), so that the bench can sign one token per client. */
  readonly secret?: string
}

export interface ServerProcess extends Target {
  readonly port: number
  readonly pid: number
  memory(): Promise<MemorySample>
  cpu(): Promise<CpuSample>
  close(): Promise<void>
}

const benchDir = fileURLToPath(new URL('..', import.meta.url))
const entry = (kind: ServerKind) => fileURLToPath(new URL(`../servers/${kind}.ts`, import.meta.url))

const describe = (kind: ServerKind, port: number, secret: string | undefined): Target => {
  const base = `ws://127.0.0.1:${port}`
  switch (kind) {
    case 'apisync':
      return {
        kind,
        framing: 'y-websocket',
        secret,
        url: (docName, { token, ack }) => {
          const params = new URLSearchParams()
          if (token !== undefined) params.set('token', token)
          if (ack === true) params.set('ack', '1')
          return `${base}/sync/${docName}?${params}`
        },
      }
    case 'y-websocket':
      return { kind, framing: 'y-websocket', url: (docName) => `${base}/${docName}` }
    case 'hocuspocus':
      return { kind, framing: 'hocuspocus', url: () => base }
  }
}

/**
 * Start `kind` in a child process (tsx, --expose-gc) and wait until it listens, with `env` added to its
 * environment (e.g. BENCH_RELAY_STORE, see bench/servers/*.ts). BENCH_SERVER_FLAGS
 * adds Node flags to the server processes, for profiling: e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`
 * or `--heapsnapshot-signal=SIGUSR2`.
 */
export const startServer = async (kind: ServerKind, env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> => {
  // Relays that share a store share a secret (BENCH_RELAY_SECRET in `env`), so one token works on each.
  const secret = kind === 'apisync' ? (env.BENCH_RELAY_SECRET ?? randomBytes(32).toString('base64url')) : undefined
  const child: ChildProcess = fork(entry(kind), [], {
    cwd: benchDir,
    execArgv: ['--import', 'tsx', '--expose-gc', ...(process.env.BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean)],
    env: {
      ...process.env,
      TSX_TSCONFIG_PATH: fileURLToPath(new URL('../tsconfig.json', import.meta.url)),
      BENCH_RELAY_SECRET: secret ?? '',
      NODE_ENV: 'production',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  })
  // Keep the tail of the child's output (and keep its pipes drained, so that a chatty server
  // never blocks on a full pipe); show it if the child fails.
  const tail: string[] = []
  const keep = (chunk: Buffer) => {
    tail.push(chunk.toString())
    if (tail.length > 40) tail.shift()
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)

  let nextId = 1
  const pending = new Map<number, (result: unknown) => void>()
  let exited = false
  const ready = new Promise<number>((resolve, reject) => {
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') resolve(message.port)
      else if (message.type === 'failed') reject(new Error(`${kind} server failed to start:\n${message.error}`))
      else pending.get(message.id)?.(message.result)
    })
    child.on('exit', (code, signal) => {
      exited = true
      const error = new Error(`${kind} server exited (code ${code}, signal ${signal}); its last output:\n${tail.join('')}`)
      reject(error)
      for (const [id] of pending) pending.delete(id)
    })
  })
  const port = await ready
  const request = <T>(op: ChildRequest['op']): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (exited) return reject(new Error(`${kind} server is not running; its last output:\n${tail.join('')}`))
      const id = nextId++
      pending.set(id, (result) => {
        pending.delete(id)
        resolve(result as T)
      })
      child.send({ id, op } satisfies ChildRequest)
    })

  return {
    ...describe(kind, port, secret),
    port,
    pid: child.pid ?? -1,
    memory: () => request<MemorySample>('memory'),
    cpu: () => request<CpuSample>('cpu'),
    close: async () => {
      if (exited) return
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await request('close').catch(() => undefined)
      await gone
      clearTimeout(timer)
    },
  }
}
