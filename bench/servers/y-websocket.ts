/** Peer: the reference y-websocket server (@y/websocket-server 0.1.1), in memory (no YPERSISTENCE). */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setupWSConnection } from '@y/websocket-server/utils'
import { WebSocketServer } from 'ws'
import { serveInChild } from '../lib/child.js'

serveInChild(async () => {
  delete process.env.YPERSISTENCE
  const wss = new WebSocketServer({ noServer: true })
  wss.on('connection', setupWSConnection)
  const http = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end('okay')
  })
  http.on('upgrade', (request, socket, head) => {
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request))
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  return {
    port: (http.address() as AddressInfo).port,
    close: async () => {
      for (const ws of wss.clients) ws.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
})
