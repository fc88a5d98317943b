/**
 * An account's access token: what getToken() returned, read (not verified: only the relay can) with jose,
 * fetched again when it expires or the relay refuses it. Concurrent refreshes share one getToken() call.
 */
import { decodeJwt } from 'jose'
import { SyncClientError } from './errors.js'
import type { Role } from './registry.js'

/**
 * The host's token source. `accountId` is null when signing in without a token (the host decides who), and
 * the account's id afterwards. Throw a SyncClientError with code INVALID_TOKEN to say the account cannot
 * get tokens any more; any other error is treated as transient (retried with backoff).
 */
export type GetToken = (request: { readonly accountId: string | null }) => Promise<string> | string

export interface TokenInfo {
  readonly token: string
  /** Account id (`sub`). */
  readonly accountId: string
  /** Session id (`sid`), if present. */
  readonly sessionId: string | null
  readonly name: string | null
  /** Workspace id → role (`ws`). */
  readonly workspaces: Readonly<Record<string, Role>>
  /** Expiry, epoch ms, if present. */
  readonly expiresAt: number | null
}

const ROLES: readonly string[] = ['owner', 'editor', 'viewer']

export const readToken = (token: unknown): TokenInfo => {
  if (typeof token !== 'string') throw new SyncClientError('INVALID_TOKEN', 'getToken() must return a JWT string')
  let claims: ReturnType<typeof decodeJwt>
  try {
    claims = decodeJwt(token)
  } catch (cause) {
    throw new SyncClientError('INVALID_TOKEN', 'getToken() returned something that is not a JWT', { cause })
  }
  if (typeof claims.sub !== 'string' || claims.sub === '') throw new SyncClientError('INVALID_TOKEN', 'the token has no sub (account id)')
  const workspaces: Record<string, Role> = {}
  if (typeof claims.ws === 'object' && claims.ws !== null)
    for (const [id, role] of Object.entries(claims.ws)) if (ROLES.includes(role as string)) workspaces[id] = role as Role
  return {
    token,
    accountId: claims.sub,
    sessionId: typeof claims.sid === 'string' ? claims.sid : null,
    name: typeof claims.name === 'string' ? claims.name : null,
    workspaces,
    expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : null,
  }
}

/** Refresh this long before `exp`, so that a connection does not open with a token about to lapse. */
const EXPIRY_MARGIN_MS = 5_000

export class TokenSource {
  private info: TokenInfo | null
  private fetching: Promise<TokenInfo> | null = null

  constructor(
    readonly accountId: string,
    private readonly getToken: GetToken,
    initial: TokenInfo | null,
    /** Told about every new token (the account keeps its workspace grants from it). */
    private readonly onToken: (info: TokenInfo) => void,
  ) {
    this.info = initial
  }

  get current(): TokenInfo | null {
    return this.info
  }

  /** Takes a token the host handed over directly (sign-in). */
  accept(info: TokenInfo): void {
    if (info.accountId !== this.accountId) throw new SyncClientError('INVALID_TOKEN', `a token for ${info.accountId}, not ${this.accountId}`)
    this.info = info
    this.onToken(info)
  }

  /** A token that is not about to expire, fetching one if needed. */
  async get(): Promise<string> {
    const info = this.info
    if (info && (info.expiresAt === null || info.expiresAt - EXPIRY_MARGIN_MS > Date.now())) return info.token
    return (await this.fetch()).token
  }

  /** A fresh token after `stale` was refused; if another caller already replaced `stale`, that one. */
  async refresh(stale: string): Promise<string> {
    if (this.info && this.info.token !== stale) return this.info.token
    return (await this.fetch()).token
  }

  private fetch(): Promise<TokenInfo> {
    this.fetching ??= (async () => {
      try {
        const info = readToken(await this.getToken({ accountId: this.accountId }))
        if (info.accountId !== this.accountId)
          throw new SyncClientError('INVALID_TOKEN', `getToken() returned a token for ${info.accountId}, not ${this.accountId}`)
        this.info = info
        this.onToken(info)
        return info
      } finally {
        this.fetching = null
      }
    })()
    return this.fetching
  }
}
