/** Where the relay lives: its HTTP base (sessions API) and its sync base (WebSocket). */
import { SyncClientError } from './errors.js'

export interface RelayEndpoints {
  /** `http(s)://host[/path]`, no trailing slash. */
  readonly http: string
  /** `ws(s)://host[/path]/sync`: y-websocket's serverUrl; the room is the doc name. */
  readonly sync: string
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1'])

/** Loopback names: plain transport never leaves the machine. */
export const isLoopback = (hostname: string): boolean => LOOPBACK.has(hostname) || hostname.endsWith('.localhost')

/**
 * Derives both endpoints from one relay URL (http, https, ws or wss). Plain http/ws is refused unless the
 * host is loopback or `allowInsecure` is set: tokens travel in the URL, and edits are private.
 */
export const relayEndpoints = (relayUrl: string, allowInsecure = false): RelayEndpoints => {
  let url: URL
  try {
    url = new URL(relayUrl)
  } catch (cause) {
    throw new SyncClientError('INVALID_URL', `relayUrl ${JSON.stringify(relayUrl)} is not a URL`, { cause })
  }
  const secure = url.protocol === 'https:' || url.protocol === 'wss:'
  if (!secure && url.protocol !== 'http:' && url.protocol !== 'ws:')
    throw new SyncClientError('INVALID_URL', `relayUrl must be https:// or wss:// (got ${url.protocol})`)
  if (!secure && !allowInsecure && !isLoopback(url.hostname))
    throw new SyncClientError(
      'INSECURE_URL',
      `refusing plain ${url.protocol}// to ${url.hostname}: use https:// or wss://, or pass allowInsecure: true`,
    )
  if (url.search || url.hash) throw new SyncClientError('INVALID_URL', 'relayUrl takes no query or fragment')
  const path = url.pathname.replace(/\/+$/, '')
  return {
    http: `${secure ? 'https' : 'http'}://${url.host}${path}`,
    sync: `${secure ? 'wss' : 'ws'}://${url.host}${path}/sync`,
  }
}
