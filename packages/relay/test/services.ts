/**
 * Real PostgreSQL and Redis for tests: the shared local services (APISYNC_TEST_POSTGRES, APISYNC_TEST_REDIS;
 * default the local ones), with a database of its own per test (created with a random name, dropped after)
 * and a channel prefix of its own; or a private redis-server / postgres on a free port, for tests that stop and
 * restart the service (never the shared ones: other tests use them).
 *
 * Without the services these tests are skipped with a loud message; with APISYNC_REQUIRE_SERVICES=1 (CI) their
 * absence fails the suite.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { createClient } from 'redis'

export const POSTGRES_URL = process.env.APISYNC_TEST_POSTGRES || 'postgres://postgres@127.0.0.1:5432/postgres'
export const REDIS_URL = process.env.APISYNC_TEST_REDIS || 'redis://127.0.0.1:6379'
const required = process.env.APISYNC_REQUIRE_SERVICES === '1'

type Service = 'postgres' | 'redis'

async function reachable(service: Service): Promise<string | null> {
  try {
    if (service === 'postgres') {
      const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 })
      await client.connect()
      await client.query('SELECT 1')
      await client.end()
    } else {
      const client = createClient({ url: REDIS_URL, socket: { connectTimeout: 2000, reconnectStrategy: false } })
      client.on('error', () => {})
      await client.connect()
      await client.ping()
      await client.close()
    }
    return null
  } catch (err) {
    return err instanceof Error ? err.message : String(err)
  }
}

/**
 * Whether the services answer. Call at the top of a test file (`const ok = await services(['postgres'])`)
 * and skip with `describe.skipIf(!ok)`. Missing services are reported loudly, or throw under CI.
 */
export async function services(needed: Service[]): Promise<boolean> {
  const missing: string[] = []
  for (const service of needed) {
    const error = await reachable(service)
    if (error) missing.push(`${service} (${service === 'postgres' ? POSTGRES_URL : REDIS_URL}): ${error}`)
  }
  if (missing.length === 0) return true
  const message = `Needed services are not reachable, so these tests are SKIPPED:\n  ${missing.join('\n  ')}\nStart them (see .ci/run) or set APISYNC_TEST_POSTGRES / APISYNC_TEST_REDIS.`
  if (required) throw new Error(`APISYNC_REQUIRE_SERVICES=1: ${message}`)
  console.warn(`\n${'!'.repeat(100)}\n${message}\n${'!'.repeat(100)}\n`)
  return false
}

/** A database of its own on the shared Postgres; `drop()` removes it (connections included). */
export async function testDatabase(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `apisync_test_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: POSTGRES_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(POSTGRES_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const client = new pg.Client({ connectionString: POSTGRES_URL })
      await client.connect()
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      } finally {
        await client.end()
      }
    },
  }
}

/** A channel prefix of its own on the shared Redis. */
export const redisPrefix = (): string => `apisync-test:${randomBytes(6).toString('hex')}:`

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

const waitFor = async (check: () => Promise<boolean>, what: string, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** A redis-server of this test's own on a free port (no persistence), to stop and start at will. */
export interface PrivateRedis {
  url: string
  port: number
  start(): Promise<void>
  /** SIGKILL: no goodbye to clients. */
  kill(): Promise<void>
}

export async function privateRedis(): Promise<PrivateRedis> {
  const port = await freePort()
  let child: ChildProcess | null = null
  const url = `redis://127.0.0.1:${port}`
  const pingable = async () => (await reachableRedis(url)) === null
  const r: PrivateRedis = {
    url,
    port,
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
      await waitFor(pingable, `redis-server on ${port}`)
    },
    async kill() {
      if (!child || child.exitCode !== null) return
      const exited = new Promise((resolve) => child!.once('exit', resolve))
      child.kill('SIGKILL')
      await exited
      child = null
    },
  }
  await r.start()
  return r
}

async function reachableRedis(url: string): Promise<string | null> {
  const client = createClient({ url, socket: { connectTimeout: 500, reconnectStrategy: false } })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.ping()
    await client.close()
    return null
  } catch (err) {
    return String(err)
  }
}

/** A PostgreSQL server of this test's own (initdb in a temp dir, a free port), to stop and start at will. */
export interface PrivatePostgres {
  url: string
  start(): Promise<void>
  /** Immediate shutdown (`pg_ctl stop -m immediate`): like a crash, no goodbye to clients. */
  stop(): Promise<void>
  destroy(): Promise<void>
}

/** The directory of initdb/pg_ctl, or null if PostgreSQL's server binaries are not installed. */
export function postgresBinaries(): string | null {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return null
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a))
  for (const v of versions) if (existsSync(join(root, v, 'bin', 'initdb'))) return join(root, v, 'bin')
  return null
}

export async function privatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinaries()
  if (!bin) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql')
  const dir = mkdtempSync(join(tmpdir(), 'apisync-pg-'))
  const data = join(dir, 'data')
  const port = await freePort()
  // initdb refuses to run as root: run the server as the postgres user when we are root.
  const asRoot = process.getuid?.() === 0
  if (asRoot) {
    const { uid, gid } = userIds('postgres')
    chownSync(dir, uid, gid)
  }
  const run = (args: string[]) => {
    const cmd = asRoot ? 'runuser' : args[0]
    const argv = asRoot ? ['-u', 'postgres', '--', ...args] : args.slice(1)
    const result = spawnSync(cmd, argv, { encoding: 'utf8' })
    if (result.status !== 0) throw new Error(`${args.join(' ')} failed: ${result.stderr || result.stdout}`)
  }
  run([join(bin, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'])
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  const answers = async () => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 500 })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.end()
      return true
    } catch {
      return false
    }
  }
  const p: PrivatePostgres = {
    url,
    async start() {
      run([join(bin, 'pg_ctl'), '-D', data, '-l', join(dir, 'log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start'])
      await waitFor(answers, `postgres on ${port}`)
    },
    async stop() {
      run([join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop'])
    },
    async destroy() {
      try {
        run([join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop'])
      } catch {
        // not running
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
  await p.start()
  return p
}

function userIds(name: string): { uid: number; gid: number } {
  const out = spawnSync('id', ['-u', name], { encoding: 'utf8' })
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' })
  if (out.status !== 0) throw new Error(`no user ${name}`)
  return { uid: Number(out.stdout.trim()), gid: Number(gid.stdout.trim()) }
}
