/**
 * What a WebSocket close from the relay means for the client (docs/protocol.md): retry later, refresh the
 * token once, or stop and say why — for this doc, or for the whole session.
 */
import type { DeviceSession, SyncErrorReason, SyncProblem } from './status.js'

export type CloseAction =
  | 'retry' // transient: network, restart (1012), server error (1011), try later (1013), anything unknown
  | 'refresh-token' // 4401: get a fresh token once, reconnect at once
  | 'stop-doc' // 4400, 4403, 4413, other 44xx: this doc stops; retrying would fail the same way
  | 'stop-session' // 4409, 4410: the session cannot connect at all; every doc of the account stops

const REASONS: Record<number, SyncErrorReason> = {
  4400: 'bad-request',
  4401: 'unauthorized',
  4403: 'forbidden',
  4409: 'device-limit',
  4410: 'revoked',
  4413: 'too-large',
}

export const closeAction = (code: number): CloseAction => {
  if (code === 4401) return 'refresh-token'
  if (code === 4409 || code === 4410) return 'stop-session'
  if (code >= 4400 && code < 4500) return 'stop-doc'
  return 'retry'
}

export const problemFromClose = (code: number, reason: string): SyncProblem => {
  const problem: SyncProblem = { reason: REASONS[code] ?? 'rejected', message: reason || `closed with ${code}`, closeCode: code }
  if (code !== 4409) return problem
  const sessions = deviceLimitSessions(reason)
  return sessions ? { ...problem, sessions } : problem
}

/**
 * The relay puts the connected sessions into a 4409's reason as JSON when they fit in 123 bytes:
 * `{"limit":3,"sessions":[{"sid":"…","device":"…"}]}`; otherwise only a summary (then ask GET /sessions).
 */
export const deviceLimitSessions = (reason: string): DeviceSession[] | undefined => {
  try {
    const parsed: unknown = JSON.parse(reason)
    const list = (parsed as { sessions?: unknown }).sessions
    if (!Array.isArray(list)) return undefined
    return list.flatMap((s: unknown) =>
      typeof s === 'object' && s !== null && typeof (s as DeviceSession).sid === 'string'
        ? [{ sid: (s as DeviceSession).sid, device: typeof (s as DeviceSession).device === 'string' ? (s as DeviceSession).device : null }]
        : [],
    )
  } catch {
    return undefined
  }
}
