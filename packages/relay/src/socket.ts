/** The relay's WebSocket server: ws, with over-limit and malformed frames closed with the relay's codes. */
import { WebSocket, WebSocketServer } from 'ws'
import type { Connection } from './connection.js'

/**
 * ws refuses a frame over `maxPayload` before buffering it, and invalid framing, with 1009/1002/1007. The
 * relay's protocol names those 4413 and 4400 (docs/protocol.md), so map them where ws closes. The relay
 * itself never closes with these three codes.
 */
export class RelaySocket extends WebSocket {
  /** The sync connection this socket carries, once admitted (see Connection's shared socket listeners). */
  connection: Connection | null = null

  override close(code?: number, data?: string | Buffer): void {
    if (code === 1009) return super.close(4413, 'message too large')
    if (code === 1002 || code === 1007) return super.close(4400, 'malformed frame')
    super.close(code, data)
  }
}

export function createWebSocketServer(maxMessageBytes: number): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
    maxPayload: maxMessageBytes,
    WebSocket: RelaySocket,
    // Compression costs ~300 KB per connection in zlib state; Yjs updates are small and already compact.
    perMessageDeflate: false,
    clientTracking: false,
  })
}
