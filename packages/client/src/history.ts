/**
 * History as the relay keeps it (docs/protocol.md, "History"): versions of a doc, a doc as it was at a
 * version, and the workspace's activity feed, read over HTTP with the account's token. History lives on the
 * relay only (not on the device): without the relay these fail with HistoryError OFFLINE.
 */
import type { DocKind } from '@apisync/model'
import type { ConnectionContext } from './doc-connection.js'
import { type HistoryStateBody, readHistoryState } from './protocol.js'

export type HistoryErrorCode = 'OFFLINE' | 'FORBIDDEN' | 'GONE' | 'NOT_FOUND' | 'SIGNED_OUT' | 'BAD_REQUEST'

export class HistoryError extends Error {
  override readonly name = 'HistoryError'
  constructor(
    readonly code: HistoryErrorCode,
    message: string,
    /** GONE: the oldest version still kept. */
    readonly oldest?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

export interface VersionAuthor {
  account: string
  device: string | null
}

/** Consecutive changes of one session (or, past the keep-all window, one day's changes of several people). */
export interface Version {
  doc: string
  /** Open it with this: the doc as it was after this change. */
  seq: number
  firstSeq: number
  /** When its last change was committed (ms). */
  at: number
  authors: VersionAuthor[]
  changes: number
}

export interface HistoryPage {
  versions: Version[]
  /** Pass as `before` for the next (older) page; null: no older versions. */
  next: number | null
  /** The oldest version still kept (0: from the very beginning). */
  oldest: number
}

export interface ActivityEntry {
  doc: string
  kind: DocKind
  /** The collection of a collection or runs doc. */
  collectionId?: string
  seq: number
  firstSeq: number
  at: number
  account: string | null
  device: string | null
  changes: number
}

export interface ActivityPage {
  entries: ActivityEntry[]
  next: string | null
}

interface WireVersion {
  seq: number
  firstSeq: number
  at: number
  authors: { account: string; device: string | null; session: string }[]
  changes: number
}

/** The history routes for one account's connection (token refreshed once on 401, like sync). */
export class RelayHistory {
  constructor(
    private readonly connection: ConnectionContext,
    private readonly fetchFn: typeof fetch = globalThis.fetch.bind(globalThis),
  ) {}

  async versions(doc: string, options: { before?: number; limit?: number } = {}): Promise<HistoryPage> {
    const params = new URLSearchParams({ doc })
    if (options.before !== undefined) params.set('before', String(options.before))
    if (options.limit !== undefined) params.set('limit', String(options.limit))
    const body = (await (await this.get(`/history?${params}`)).json()) as { versions: WireVersion[]; next: number | null; oldest: number }
    return {
      versions: body.versions.map((v) => ({
        doc,
        seq: v.seq,
        firstSeq: v.firstSeq,
        at: v.at,
        authors: v.authors.map((a) => ({ account: a.account, device: a.device })),
        changes: v.changes,
      })),
      next: body.next,
      oldest: body.oldest,
    }
  }

  /**
   * The doc as it was after `seq`, as the relay stores it: updates to apply in order (in one transaction) on
   * top of the state after `base`. `after`: the caller holds the state after it (≤ seq); the relay then sends
   * only the updates since (base = after) when it keeps them, else the whole version (base 0).
   */
  async state(doc: string, seq: number, after?: number): Promise<HistoryStateBody> {
    const params = new URLSearchParams({ doc, at: String(seq) })
    if (after !== undefined) params.set('after', String(after))
    const res = await this.get(`/history/state?${params}`)
    const body = readHistoryState(new Uint8Array(await res.arrayBuffer()))
    if (!body || (body.base !== 0 && body.base !== after)) throw new HistoryError('OFFLINE', `the relay answered /history/state with a malformed body`)
    return body
  }

  async activity(workspace: string, options: { before?: string; limit?: number; account?: string; doc?: string }): Promise<{ entries: WireActivity[]; next: string | null }> {
    const params = new URLSearchParams({ workspace })
    for (const key of ['before', 'limit', 'account', 'doc'] as const) if (options[key] !== undefined) params.set(key, String(options[key]))
    return (await (await this.get(`/activity?${params}`)).json()) as { entries: WireActivity[]; next: string | null }
  }

  private async get(path: string): Promise<Response> {
    let token = await this.token()
    for (let attempt = 0; ; attempt++) {
      let res: Response
      try {
        res = await this.fetchFn(`${this.connection.httpUrl}${path}`, { headers: { authorization: `Bearer ${token}` } })
      } catch (cause) {
        throw new HistoryError('OFFLINE', 'the relay cannot be reached: history needs it', undefined, { cause })
      }
      if (res.ok) return res
      if (res.status === 401 && attempt === 0) {
        try {
          token = await this.connection.refreshToken(token)
        } catch (cause) {
          throw new HistoryError('SIGNED_OUT', 'no valid token for this account', undefined, { cause })
        }
        continue
      }
      throw await errorOf(res)
    }
  }

  private async token(): Promise<string> {
    try {
      return await this.connection.token()
    } catch (cause) {
      throw new HistoryError('SIGNED_OUT', 'no valid token for this account', undefined, { cause })
    }
  }
}

export interface WireActivity {
  doc: string
  seq: number
  firstSeq: number
  at: number
  account: string | null
  device: string | null
  session: string | null
  changes: number
}

async function errorOf(res: Response): Promise<HistoryError> {
  let body: { message?: string; oldest?: number } = {}
  try {
    body = (await res.json()) as typeof body
  } catch {
    // not JSON: the status says enough
  }
  const message = body.message ?? `relay answered ${res.status}`
  switch (res.status) {
    case 400:
      return new HistoryError('BAD_REQUEST', message)
    case 401:
      return new HistoryError('SIGNED_OUT', message)
    case 403:
      return new HistoryError('FORBIDDEN', message)
    case 404:
      return new HistoryError('NOT_FOUND', message)
    case 410:
      return new HistoryError('GONE', message, body.oldest)
    default:
      return new HistoryError('OFFLINE', `the relay cannot answer now (${res.status}): ${message}`)
  }
}
