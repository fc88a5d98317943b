/**
 * The apisync relay, committing to SQLite (WAL, synchronous=FULL) in a temporary data directory
 * under BENCH_RELAY_DATA_ROOT (default: the OS temp dir; /dev/shm there shows what fsync costs).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startRelay } from '@apisync/relay'
import { serveInChild } from '../lib/child.js'

serveInChild(async () => {
  const secret = process.env.BENCH_RELAY_SECRET
  if (!secret) throw new Error('BENCH_RELAY_SECRET is not set')
  const dataDir = mkdtempSync(join(process.env.BENCH_RELAY_DATA_ROOT || tmpdir(), 'apisync-bench-'))
  const relay = await startRelay({ auth: { secret }, dataDir, port: 0, host: '127.0.0.1', maxDevices: 1000 })
  return {
    port: relay.port,
    close: async () => {
      await relay.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
})
