/**
 * The relay's HTTP routes besides sync: health, metrics, the session API and account deletion (authorised
 * by the account's own token, `Authorization: Bearer …`), and dev auth.
 */
import type { Context, Hono } from 'hono'
import { accountSpaceId } from './account-space.js'
import type { AccessClaims, TokenVerifier } from './auth.js'
import { DevAuth, DevAuthError } from './dev-auth.js'
import { RelayError, TokenError } from './errors.js'
import { KeyBackups, MAX_KEY_BACKUP_BYTES, isJweCompact } from './key-backups.js'
import type { Logger } from './logger.js'
import { describeError } from './logger.js'
import type { RelayMetrics } from './metrics.js'
import type { Sessions } from './sessions.js'
import type { SyncHub } from './sync.js'

export interface HttpApiDeps {
  verify: TokenVerifier
  sessions: Sessions
  hub: SyncHub
  metrics: RelayMetrics
  devAuth: DevAuth | null
  keyBackups: KeyBackups
  logger: Logger
  isClosing(): boolean
}

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

export function registerHttpApi(app: Hono, deps: HttpApiDeps): void {
  const { sessions, hub } = deps

  const authenticate = async (c: Context): Promise<AccessClaims> => {
    const token = bearerToken(c.req.header('authorization'))
    if (!token) throw new TokenError('token missing')
    const claims = await deps.verify(token)
    const refused = sessions.refusal(claims)
    if (refused) throw refused
    sessions.touch(claims, c.req.header('user-agent') ?? null)
    return claims
  }

  app.get('/healthz', (c) => {
    const body = { status: deps.isClosing() ? 'shutting-down' : 'ok', connections: hub.connections.size, docs: hub.rooms.size }
    return c.json(body, deps.isClosing() ? 503 : 200)
  })

  app.get('/metrics', (c) => c.text(deps.metrics.render(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }))

  app.get('/sessions', async (c) => {
    const claims = await authenticate(c)
    const list = sessions.list(claims.sub).map((s) => ({ ...s, current: s.sid === claims.sid }))
    return c.json({ account: claims.sub, current: claims.sid, ...sessions.options, sessions: list })
  })

  app.delete('/sessions/:sid', async (c) => {
    const claims = await authenticate(c)
    const sid = c.req.param('sid')
    if (!sessions.revoke(claims.sub, sid)) return c.json({ error: 'NotFound', message: 'no such session' }, 404)
    return c.json({ revoked: [sid] })
  })

  // All the account's sessions but the caller's; `?all=1` includes the caller's (sign out everywhere).
  app.delete('/sessions', async (c) => {
    const claims = await authenticate(c)
    const all = c.req.query('all') === '1' || c.req.query('all') === 'true'
    return c.json({ revoked: sessions.revokeAll(claims.sub, all ? undefined : claims.sid) })
  })

  // The account's sessions are revoked and forgotten; the workspaces its token grants as owner (its personal
  // workspaces) are deleted with all their docs, and refused to everyone from now on.
  app.delete('/account', async (c) => {
    const claims = await authenticate(c)
    const owned = Object.entries(claims.ws)
      .filter(([, role]) => role === 'owner')
      .map(([id]) => id)
    for (const id of owned) sessions.deletions.markWorkspaceDeleted(id)
    sessions.deleteAccount(claims.sub)
    deps.keyBackups.delete(claims.sub)
    // The account's own space goes too (not marked deleted: it is the account's, and the account is gone).
    const deletedDocs = await hub.deleteWorkspaces([...owned, accountSpaceId(claims.sub)])
    return c.json({ account: claims.sub, deletedWorkspaces: owned, deletedDocs })
  })

  // The account's end-to-end key pair, wrapped under its recovery passphrase by the client: opaque here.
  app.get('/account/key-backup', async (c) => {
    const claims = await authenticate(c)
    const found = deps.keyBackups.get(claims.sub)
    return found ? c.json(found) : c.json({ error: 'NotFound', message: 'this account has no key backup' }, 404)
  })

  app.put('/account/key-backup', async (c) => {
    const claims = await authenticate(c)
    const length = Number(c.req.header('content-length') ?? 0)
    if (length > MAX_KEY_BACKUP_BYTES * 2) return c.json({ error: 'TooLarge', message: 'key backup too large' }, 413)
    let body: unknown
    try {
      body = await c.req.json()
    } catch {
      return c.json({ error: 'BadRequest', message: 'expected a JSON body { backup }' }, 400)
    }
    const backup = (body as { backup?: unknown } | null)?.backup
    if (!isJweCompact(backup)) return c.json({ error: 'BadRequest', message: 'backup must be a JWE compact string' }, 400)
    deps.keyBackups.put(claims.sub, backup)
    return c.json({ stored: true })
  })

  const devAuth = deps.devAuth
  if (devAuth) {
    app.post('/dev/token', async (c) => {
      let body: unknown
      try {
        body = await c.req.json()
      } catch {
        return c.json({ error: 'DevAuthError', message: 'expected a JSON body' }, 400)
      }
      try {
        return c.json(await devAuth.issue(DevAuth.parseRequest(body), (sid) => sessions.accountOf(sid)))
      } catch (err) {
        if (err instanceof DevAuthError) return c.json({ error: err.name, message: err.message }, 400)
        throw err
      }
    })
  }

  app.onError((err, c) => {
    if (err instanceof RelayError) return errorResponse(c, err)
    deps.logger.error('http.error', { method: c.req.method, path: c.req.path, error: describeError(err) })
    return c.json({ error: 'ServerError', message: 'server error' }, 500)
  })
}
