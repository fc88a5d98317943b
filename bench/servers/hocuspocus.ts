/**
 * Peer: @hocuspocus/server 4 with no extensions (in memory: no persistence, no auth hook); with
 * BENCH_HOCUSPOCUS_REDIS (redis://host:port) it adds @hocuspocus/extension-redis 4.7, so that several
 * instances on one Redis serve the same documents (keys and channels prefixed BENCH_HOCUSPOCUS_PREFIX).
 */
import { Redis } from '@hocuspocus/extension-redis'
import { Server } from '@hocuspocus/server'
import { serveInChild } from '../lib/child.js'

serveInChild(async () => {
  const redisUrl = process.env.BENCH_HOCUSPOCUS_REDIS
  const extensions = []
  if (redisUrl) {
    const { hostname, port } = new URL(redisUrl)
    extensions.push(new Redis({ host: hostname, port: Number(port || 6379), prefix: process.env.BENCH_HOCUSPOCUS_PREFIX || 'hocuspocus-bench' }))
  }
  const server = new Server({ port: 0, address: '127.0.0.1', quiet: true, stopOnSignals: false, extensions })
  await server.listen()
  return { port: server.address.port, close: () => server.destroy() }
})
