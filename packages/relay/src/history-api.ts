/**
 * The history routes (docs/protocol.md): GET /history, /history/state and /activity. Bearer token; the token
 * must grant the doc's workspace (any role: viewers read history; restoring is a normal edit over sync, which
 * a viewer may not make). Account-space docs only to their own account (grantedRole).
 */
import type { Context, Hono } from 'hono'
import { grantedRole } from './account-space.js'
import type { AccessClaims, TokenVerifier } from './auth.js'
import { isWorkspaceId, parseDocName } from './doc-name.js'
import { ProtocolError, RelayError } from './errors.js'
import { decodeCursor, encodeCursor, type VersionRecord } from './history.js'
import { authenticateRequest } from './http-api.js'
import { encodeHistoryState } from './protocol.js'
import type { SessionRegistry } from './registry.js'
import type { DocStore } from './store.js'

export const DEFAULT_HISTORY_PAGE = 50
export const MAX_HISTORY_PAGE = 200

export interface HistoryApiDeps {
  verify: TokenVerifier
  registry: SessionRegistry
  store: DocStore
}

const notFound = (c: Context, code: string, message: string) => c.json({ error: 'NotFound', code, message }, 404)

/** A query parameter that must be a decimal integer in [min, max] when present (no sign, exponent or hex). */
function intParam(c: Context, name: string, min: number, max: number): number | undefined {
  const raw = c.req.query(name)
  if (raw === undefined) return undefined
  const n = /^\d{1,16}$/.test(raw) ? Number(raw) : NaN
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new ProtocolError(`${name} must be an integer from ${min} to ${max}`)
  return n
}

function docParam(c: Context, claims: AccessClaims): string {
  const raw = c.req.query('doc')
  if (raw === undefined) throw new ProtocolError('doc is required')
  const doc = parseDocName(raw)
  if (!grantedRole(claims, doc.workspaceId)) throw new RelayError(4403, 'workspace not granted')
  return doc.name
}

const authorsOf = (v: VersionRecord) => v.authors.map((a) => ({ account: a.account, device: a.device, session: a.session }))

export function registerHistoryApi(app: Hono, deps: HistoryApiDeps): void {
  const { store } = deps
  const authenticate = (c: Context) => authenticateRequest(c, deps.verify, deps.registry)
  const enabled = () => store.historyEnabled === true && store.versions !== undefined

  app.get('/history', async (c) => {
    const claims = await authenticate(c)
    const doc = docParam(c, claims)
    const before = intParam(c, 'before', 1, Number.MAX_SAFE_INTEGER) ?? null
    const limit = intParam(c, 'limit', 1, MAX_HISTORY_PAGE) ?? DEFAULT_HISTORY_PAGE
    if (!enabled()) return notFound(c, 'HISTORY_OFF', 'this relay keeps no history')
    const bounds = await store.historyBounds!(doc)
    if (!bounds) return notFound(c, 'NOT_FOUND', 'no such doc')
    const found = await store.versions!(doc, before, limit + 1)
    const versions = found.slice(0, limit)
    const next = found.length > limit ? versions[versions.length - 1].firstSeq : null
    return c.json({
      versions: versions.map((v) => ({ seq: v.seq, firstSeq: v.firstSeq, at: v.at, authors: authorsOf(v), changes: v.changes })),
      next,
      oldest: bounds.oldest,
      head: bounds.head,
    })
  })

  app.get('/history/state', async (c) => {
    const claims = await authenticate(c)
    const doc = docParam(c, claims)
    const at = intParam(c, 'at', 0, Number.MAX_SAFE_INTEGER)
    if (at === undefined) throw new ProtocolError('at is required')
    // The client holds the state after `after` and moves forward from it (Yjs cannot go back).
    const after = intParam(c, 'after', 0, at)
    if (!enabled()) return notFound(c, 'HISTORY_OFF', 'this relay keeps no history')
    const state = await store.historyState!(doc, at, after)
    if (state.ok)
      return c.body(encodeHistoryState(state.base, state.parts) as Uint8Array<ArrayBuffer>, 200, {
        'content-type': 'application/octet-stream',
        // A version never changes; `after` = `at` asks whether it is still granted and kept: never from a cache.
        'cache-control': after === at ? 'no-store' : 'private, max-age=31536000, immutable',
      })
    if (state.reason === 'unknown-doc') return notFound(c, 'NOT_FOUND', 'no such doc')
    if (state.reason === 'ahead') return notFound(c, 'NOT_FOUND', `no version ${at} yet (head ${state.head})`)
    return c.json({ error: 'HistoryGone', code: 'HISTORY_GONE', message: `version ${at} is no longer kept (oldest ${state.oldest})`, oldest: state.oldest }, 410)
  })

  app.get('/activity', async (c) => {
    const claims = await authenticate(c)
    const workspace = c.req.query('workspace')
    if (!isWorkspaceId(workspace)) throw new ProtocolError('workspace is required')
    if (!grantedRole(claims, workspace)) throw new RelayError(4403, 'workspace not granted')
    const docRaw = c.req.query('doc')
    const doc = docRaw === undefined ? undefined : parseDocName(docRaw).name
    if (doc !== undefined && !doc.startsWith(`${workspace}/`)) throw new ProtocolError('doc is not in this workspace')
    const beforeRaw = c.req.query('before')
    const before = beforeRaw === undefined ? undefined : decodeCursor(beforeRaw)
    if (before === null) throw new ProtocolError('before is not a cursor from this route')
    const limit = intParam(c, 'limit', 1, MAX_HISTORY_PAGE) ?? DEFAULT_HISTORY_PAGE
    const account = c.req.query('account')
    if (account !== undefined && (account === '' || account.length > 512)) throw new ProtocolError('bad account')
    if (!enabled()) return notFound(c, 'HISTORY_OFF', 'this relay keeps no history')
    const found = await store.activity!({ prefix: `${workspace}/`, before, limit: limit + 1, account, doc })
    const entries = found.slice(0, limit)
    const last = entries[entries.length - 1]
    return c.json({
      entries: entries.map((v) => {
        const author = v.authors[v.authors.length - 1]
        return {
          doc: v.doc,
          seq: v.seq,
          firstSeq: v.firstSeq,
          at: v.at,
          account: author?.account ?? null,
          device: author?.device ?? null,
          session: author?.session ?? null,
          changes: v.changes,
          authors: authorsOf(v),
        }
      }),
      next: found.length > limit ? encodeCursor({ at: last.at, doc: last.doc, seq: last.seq }) : null,
    })
  })
}
