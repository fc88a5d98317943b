/**
 * The apisync relay: by default committing to SQLite (WAL, synchronous=FULL) in a temporary data directory
 * under BENCH_RELAY_DATA_ROOT (default: the OS temp dir; /dev/shm there shows what fsync costs). With
 * BENCH_RELAY_STORE (a postgres:// URL) it commits to Postgres instead, and with BENCH_RELAY_REDIS (a redis://
 * URL, channels prefixed BENCH_RELAY_PREFIX) it fans out to the other relays on the same store over Redis.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startRelay } from '@apisync/relay'
import { serveInChild } from '../lib/child.js'

serveInChild(async () => {
  const secret = process.env.BENCH_RELAY_SECRET
  if (!secret) throw new Error('BENCH_RELAY_SECRET is not set')
  const store = process.env.BENCH_RELAY_STORE || undefined
  const bus = process.env.BENCH_RELAY_REDIS || undefined
  const dataDir = mkdtempSync(join(process.env.BENCH_RELAY_DATA_ROOT || tmpdir(), 'apisync-bench-'))
  const relay = await startRelay({
    auth: { secret },
    dataDir,
    port: 0,
    host: '127.0.0.1',
    maxDevices: 1000,
    ...(store ? { store } : {}),
    ...(bus ? { bus, busPrefix: process.env.BENCH_RELAY_PREFIX || 'apisync-bench:' } : {}),
  })
  return {
    port: relay.port,
    close: async () => {
      await relay.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
})
