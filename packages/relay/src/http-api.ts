/**
 * The relay's HTTP routes besides sync: health, metrics, the session API and account deletion (authorised
 * by the account's own token, `Authorization: Bearer …`), and dev auth. Every route that reads a body has a
 * body limit (hono's bodyLimit counts a chunked body as it arrives and stops reading past the limit).
 */
import type { Context, Hono } from 'hono'
import { accountSpaceId } from './account-space.js'
import { bodyLimit } from 'hono/body-limit'
import type { AccessClaims, TokenVerifier } from './auth.js'
import { DevAuth, DevAuthError } from './dev-auth.js'
import { RelayError, StorageError, TokenError } from './errors.js'
import { MAX_KEY_BACKUP_BODY_BYTES, MAX_KEY_BACKUP_BYTES, isJweCompact } from './key-backups.js'
import type { Logger } from './logger.js'
import { describeError } from './logger.js'
import type { RelayMetrics } from './metrics.js'
import type { KeyBackupStore, SessionRegistry } from './registry.js'
import type { Sessions } from './sessions.js'
import type { SyncHub } from './sync.js'

/** Whether each backing service answers (GET /healthz). */
export interface HealthReport {
  store: { kind: string; ok: boolean; error?: string }
  bus: { kind: string; ok: boolean; error?: string }
}

export interface HttpApiDeps {
  verify: TokenVerifier
  sessions: Sessions
  registry: SessionRegistry
  hub: SyncHub
  metrics: RelayMetrics
  /** Resolves to the dev auth (null without --dev-auth) once storage is open. */
  devAuth: Promise<DevAuth> | null
  keyBackups: KeyBackupStore
  logger: Logger
  health(): Promise<HealthReport>
  isClosing(): boolean
}

/** The body limit of routes that read a body and set none of their own. */
export const MAX_REQUEST_BODY_BYTES = 64 * 1024

const tooLarge = (c: Context) => c.json({ error: 'TooLarge', code: 4413, message: 'request body too large' }, 413)

/** The token of an HTTP request: `Authorization: Bearer …`. */
export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
  return match ? match[1] : null
}

const statusOf = (code: number): 400 | 401 | 403 | 409 | 413 | 500 | 503 => {
  switch (code) {
    case 4400:
      return 400
    case 4401:
    case 4410:
      return 401
    case 4403:
      return 403
    case 4409:
      return 409
    case 4413:
      return 413
    case 1011:
      return 500
    case 1012:
    case 1013:
      return 503
    default:
      return 500
  }
}

/** A refusal as JSON: `{ error, code, message }` where `code` is the matching WebSocket close code. */
export function errorResponse(c: Context, err: RelayError): Response {
  return c.json({ error: err.name, code: err.code, message: err.reason }, statusOf(err.code))
}

/** The claims of a request's Bearer token, if it verifies and its session is neither revoked nor deleted. */
export async function authenticateRequest(c: Context, verify: TokenVerifier, registry: SessionRegistry): Promise<AccessClaims> {
  const token = bearerToken(c.req.header('authorization'))
  if (!token) throw new TokenError('token missing')
  const claims = await verify(token)
  const refused = await registry.refusal(claims)
  if (refused) throw refused
  registry.seen(claims, c.req.header('user-agent') ?? null)
  return claims
}

export function registerHttpApi(app: Hono, deps: HttpApiDeps): void {
  const { sessions, hub, registry } = deps

  const authenticate = (c: Context): Promise<AccessClaims> => authenticateRequest(c, deps.verify, registry)

  // Every request body is bounded; routes below may bound theirs tighter.
  app.use('*', async (c, next) => (c.req.path.startsWith('/sync/') ? next() : bodyLimit({ maxSize: MAX_REQUEST_BODY_BYTES, onError: tooLarge })(c, next)))

  // 503 while shutting down or when the store does not answer (a relay that cannot commit cannot ack: send
  // clients elsewhere); 200 with "degraded" when only the bus is down (fan-out then goes through the store).
  app.get('/healthz', async (c) => {
    const report = await deps.health()
    const status = deps.isClosing() ? 'shutting-down' : !report.store.ok ? 'unavailable' : !report.bus.ok ? 'degraded' : 'ok'
    const body = { status, connections: hub.connections.size, docs: hub.rooms.size, ...report }
    return c.json(body, status === 'ok' || status === 'degraded' ? 200 : 503)
  })

  app.get('/metrics', (c) => c.text(deps.metrics.render(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }))

  app.get('/sessions', async (c) => {
    const claims = await authenticate(c)
    const list = (await sessions.list(claims.sub)).map((s) => ({ ...s, current: s.sid === claims.sid }))
    const { maxDevices, devicePolicy } = sessions.options
    return c.json({ account: claims.sub, current: claims.sid, maxDevices, devicePolicy, sessions: list })
  })

  app.delete('/sessions/:sid', async (c) => {
    const claims = await authenticate(c)
    const sid = c.req.param('sid')
    if (!(await sessions.revoke(claims.sub, sid))) return c.json({ error: 'NotFound', message: 'no such session' }, 404)
    return c.json({ revoked: [sid] })
  })

  // All the account's sessions but the caller's; `?all=1` includes the caller's (sign out everywhere).
  app.delete('/sessions', async (c) => {
    const claims = await authenticate(c)
    const all = c.req.query('all') === '1' || c.req.query('all') === 'true'
    return c.json({ revoked: await sessions.revokeAll(claims.sub, all ? undefined : claims.sid) })
  })

  // The account's sessions are revoked and forgotten; the workspaces its token grants as owner (its personal
  // workspaces) are deleted with all their docs, and refused to everyone from now on.
  app.delete('/account', async (c) => {
    const claims = await authenticate(c)
    const owned = Object.entries(claims.ws)
      .filter(([, role]) => role === 'owner')
      .map(([id]) => id)
    await sessions.deleteAccount(claims.sub, owned)
    // The account's own space goes too (not marked deleted: it is the account's, and the account is gone).
    const deletedDocs = await hub.deleteWorkspaces([...owned, accountSpaceId(claims.sub)])
    return c.json({ account: claims.sub, deletedWorkspaces: owned, deletedDocs })
  })

  // The account's end-to-end key pair, wrapped under its recovery passphrase by the client: opaque here.
  app.get('/account/key-backup', async (c) => {
    const claims = await authenticate(c)
    const found = await deps.keyBackups.get(claims.sub)
    return found ? c.json(found) : c.json({ error: 'NotFound', message: 'this account has no key backup' }, 404)
  })

  const keyBackupTooLarge = (c: Context) =>
    c.json({ error: 'TooLarge', code: 4413, message: `key backup too large (at most ${MAX_KEY_BACKUP_BYTES} bytes)` }, 413)
  app.put('/account/key-backup', bodyLimit({ maxSize: MAX_KEY_BACKUP_BODY_BYTES, onError: keyBackupTooLarge }), async (c) => {
    const claims = await authenticate(c)
    let body: unknown
    try {
      body = await c.req.json()
    } catch {
      return c.json({ error: 'BadRequest', message: 'expected a JSON body { backup }' }, 400)
    }
    const backup = (body as { backup?: unknown } | null)?.backup
    if (typeof backup === 'string' && Buffer.byteLength(backup) > MAX_KEY_BACKUP_BYTES) return keyBackupTooLarge(c)
    if (!isJweCompact(backup)) return c.json({ error: 'BadRequest', message: 'backup must be a JWE compact string' }, 400)
    await deps.keyBackups.put(claims.sub, backup)
    return c.json({ stored: true })
  })

  const devAuth = deps.devAuth
  if (devAuth) {
    app.post('/dev/token', bodyLimit({ maxSize: 8 * 1024, onError: tooLarge }), async (c) => {
      let body: unknown
      try {
        body = await c.req.json()
      } catch {
        return c.json({ error: 'DevAuthError', message: 'expected a JSON body' }, 400)
      }
      try {
        return c.json(await (await devAuth).issue(DevAuth.parseRequest(body), (sid) => registry.accountOf(sid)))
      } catch (err) {
        if (err instanceof DevAuthError) return c.json({ error: err.name, message: err.message }, 400)
        throw err
      }
    })
  }

  app.onError((err, c) => {
    if (err instanceof RelayError) return errorResponse(c, err)
    if (err instanceof StorageError) {
      deps.logger.warn('http.storage-unavailable', { method: c.req.method, path: c.req.path, error: describeError(err) })
      return c.json({ error: 'Unavailable', code: 1013, message: 'storage unavailable: try again later' }, 503)
    }
    deps.logger.error('http.error', { method: c.req.method, path: c.req.path, error: describeError(err) })
    return c.json({ error: 'ServerError', message: 'server error' }, 500)
  })
}
