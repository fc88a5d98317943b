/** Peer: @hocuspocus/server 4 with no extensions (in memory: no persistence, no auth hook). */
import { Server } from '@hocuspocus/server'
import { serveInChild } from '../lib/child.js'

serveInChild(async () => {
  const server = new Server({ port: 0, address: '127.0.0.1', quiet: true, stopOnSignals: false })
  await server.listen()
  return { port: server.address.port, close: () => server.destroy() }
})
