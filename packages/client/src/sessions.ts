/**
 * The relay's sessions API (docs/protocol.md): list this account's sessions, revoke one, revoke all.
 * Authenticated with the account's token; a 401 gets one fresh token and one more try.
 */
import { SyncClientError } from './errors.js'
import type { DeviceSession } from './status.js'
import type { TokenSource } from './token.js'

export interface SessionsApi {
  /** This account's sessions; `current` marks this client's. */
  list(): Promise<DeviceSession[]>
  /** Signs one session out: its live connections close (4410) and it is refused from then on. */
  revoke(sessionId: string): Promise<void>
  /**
   * Signs the account's other sessions out; with `includeThisDevice`, this one too (sign out everywhere:
   * this client's docs then stop with error `revoked`; sign out locally afterwards).
   */
  revokeAll(options?: { readonly includeThisDevice?: boolean }): Promise<void>
}

export const sessionsApi = (httpBase: string, tokens: TokenSource, fetchFn: typeof fetch): SessionsApi => {
  const call = async (method: string, path: string): Promise<Response> => {
    const send = (token: string) => fetchFn(`${httpBase}${path}`, { method, headers: { authorization: `Bearer ${token}` } })
    let token = await tokens.get()
    let res = await send(token)
    if (res.status === 401) {
      token = await tokens.refresh(token)
      res = await send(token)
    }
    if (!res.ok) {
      const text = await res.text().catch(() => '')
      throw new SyncClientError('HTTP', `${method} ${path}: ${res.status} ${text.slice(0, 200)}`)
    }
    return res
  }
  return {
    async list() {
      const body: unknown = await (await call('GET', '/sessions')).json()
      const list = Array.isArray(body) ? body : (body as { sessions?: unknown }).sessions
      if (!Array.isArray(list)) throw new SyncClientError('HTTP', 'GET /sessions: unexpected response')
      const mine = tokens.current?.sessionId ?? null
      return list
        .filter((s): s is DeviceSession => typeof s === 'object' && s !== null && typeof (s as DeviceSession).sid === 'string')
        .map((s) => ({ ...s, current: s.sid === mine }))
    },
    async revoke(sessionId) {
      await call('DELETE', `/sessions/${encodeURIComponent(sessionId)}`)
    },
    async revokeAll(options = {}) {
      await call('DELETE', options.includeThisDevice ? '/sessions?all=1' : '/sessions')
    },
  }
}
