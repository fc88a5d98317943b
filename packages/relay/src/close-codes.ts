/**
 * WebSocket close codes the relay uses (docs/protocol.md). 44xx other than 4401 are permanent: a client
 * stops retrying and tells the person why. 4401 means "refresh the token once and reconnect".
 */
export const CloseCode = {
  /** Server error: the relay could not load or store the doc. Reconnect later. */
  serverError: 1011,
  /** The relay is restarting or shutting down. Reconnect. */
  restart: 1012,
  /** The relay is overloaded or this connection could not keep up. Reconnect later. */
  tryAgainLater: 1013,
  /** Malformed message: bad framing, truncated varint, absurd length, invalid Yjs update, unknown type. */
  badRequest: 4400,
  /** Token missing, invalid or expired (also when it expires during a live connection). */
  unauthorized: 4401,
  /** The token does not grant the doc's workspace, or the workspace was deleted. */
  forbidden: 4403,
  /** The account already has the maximum number of devices (sessions) connected. */
  deviceLimit: 4409,
  /** The session was revoked (signed out remotely, evicted by the device limit, account deleted). */
  sessionRevoked: 4410,
  /** A message exceeded the relay's maximum message size. */
  messageTooLarge: 4413,
} as const

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode]

/** The reason of a close frame is limited to 123 bytes of UTF-8 (RFC 6455 §5.5). */
export const MAX_CLOSE_REASON_BYTES = 123

/** Cut `reason` to at most 123 UTF-8 bytes without splitting a character. */
export function closeReason(reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_CLOSE_REASON_BYTES) return reason
  let out = ''
  let bytes = 0
  for (const ch of reason) {
    bytes += Buffer.byteLength(ch)
    if (bytes > MAX_CLOSE_REASON_BYTES) break
    out += ch
  }
  return out
}
