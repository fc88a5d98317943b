/**
 * Dev auth (`--dev-auth`): POST /dev/token issues tokens for a name and a device so the demo runs with no
 * other service. Each name gets a stable random account id and a personal workspace (granted as owner);
 * other workspaces can be requested with a role, which is how a demo shares a workspace with a second account
 * (e.g. as viewer). Anyone who can reach the endpoint gets any grant: never enable it in production.
 *
 * Key endorsement, as a real identity provider would give it: the first ES256 public key a caller gives for an
 * account (`key`, the account's signing key) is bound to the account, and every token of the account from then
 * on carries an RFC 7800 `cnf` claim with that key's RFC 7638 thumbprint (`jkt`), whatever key a later caller
 * gives. A device whose keys are not the account's then learns it from its own token (@apisync/crypto
 * `checkKeyEndorsement`, the keyring's `TOKEN_KEY_MISMATCH` notice). Dev only: the first caller decides.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { type JWK, calculateJwkThumbprint } from 'jose'
import type { Role } from './auth.js'
import { roles } from './auth.js'
import { isWorkspaceId } from './doc-name.js'
import type { DevAccountStore } from './registry.js'
import { signToken, type SigningKey } from './token.js'

export interface DevTokenRequest {
  /** The person's name; `account` is accepted as an alias. */
  name: string
  /** Device name shown in the session list. Default 'dev device'. */
  device?: string
  /** Refresh the token of this session instead of starting a new one (must be this name's). */
  sid?: string
  /** Extra workspaces to grant: id → role. */
  workspaces?: Record<string, Role>
  /** Token lifetime in seconds. Default 3600. */
  expiresIn?: number
  /** The account's ES256 signing key (a public JWK): bound to the account if none is yet (see above). */
  key?: JWK
}

export interface DevTokenResponse {
  token: string
  sub: string
  sid: string
  ws: Record<string, Role>
  personalWorkspace: string
  /** Epoch seconds. */
  expiresAt: number
  /** The thumbprint the token's `cnf` claim endorses, if the account has a bound key. */
  jkt?: string
}

export class DevAuthError extends Error {
  override readonly name = 'DevAuthError'
  readonly code = 'BAD_DEV_TOKEN_REQUEST'
}

export class DevAuth {
  private constructor(
    private readonly store: DevAccountStore,
    private readonly signing: { secret?: string; issuer?: string; audience?: string },
    /** The HS256 secret dev tokens are signed with. */
    readonly secret: string,
  ) {}

  /**
   * Dev auth over `store`. Without a configured secret, one is made and kept in the store, so that demo tokens
   * survive a restart and every relay sharing the store signs and verifies with the same one.
   */
  static async open(store: DevAccountStore, signing: { secret?: string; issuer?: string; audience?: string }): Promise<DevAuth> {
    const secret = signing.secret ?? (await store.secret(randomBytes(32).toString('base64url')))
    return new DevAuth(store, signing, secret)
  }

  /** Validate a request body; throws DevAuthError with a message for the 400 response. */
  static parseRequest(body: unknown): DevTokenRequest {
    if (typeof body !== 'object' || body === null) throw new DevAuthError('expected a JSON object')
    const b = body as Record<string, unknown>
    const name = b.name ?? b.account
    if (typeof name !== 'string' || name.trim() === '' || name.length > 100) throw new DevAuthError('name must be a non-empty string')
    const optionalString = (key: string) => {
      const v = b[key]
      if (v !== undefined && (typeof v !== 'string' || v.length === 0 || v.length > 200)) throw new DevAuthError(`${key} must be a string`)
      return v as string | undefined
    }
    const workspaces: Record<string, Role> = {}
    if (b.workspaces !== undefined) {
      if (typeof b.workspaces !== 'object' || b.workspaces === null || Array.isArray(b.workspaces))
        throw new DevAuthError('workspaces must be an object of id → role')
      for (const [id, role] of Object.entries(b.workspaces)) {
        if (!isWorkspaceId(id) || !roles.includes(role as Role)) throw new DevAuthError(`bad workspace grant ${id}`)
        workspaces[id] = role as Role
      }
    }
    const expiresIn = b.expiresIn
    if (expiresIn !== undefined && (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0 || expiresIn > 30 * 86400))
      throw new DevAuthError('expiresIn must be seconds, at most 30 days')
    const request: DevTokenRequest = {
      name: name.trim(),
      device: optionalString('device'),
      sid: optionalString('sid'),
      workspaces,
      expiresIn: expiresIn as number | undefined,
    }
    if (b.key !== undefined) request.key = publicSigningJwk(b.key)
    return request
  }

  /** The account of `name`, created on first use with a random id and a random personal workspace. */
  account(name: string): Promise<{ sub: string; workspace: string }> {
    return this.store.account(name, { sub: randomUUID(), workspace: randomUUID() })
  }

  /** Issue a token. `sessionAccount(sid)` says which account a known session belongs to. */
  async issue(request: DevTokenRequest, sessionAccount: (sid: string) => Promise<string | null>): Promise<DevTokenResponse> {
    const { sub, workspace } = await this.account(request.name)
    let sid = request.sid
    if (sid !== undefined) {
      const owner = await sessionAccount(sid)
      if (owner !== null && owner !== sub) throw new DevAuthError('sid belongs to another account')
    } else sid = randomUUID()
    const ws: Record<string, Role> = { ...request.workspaces, [workspace]: 'owner' }
    const expiresIn = request.expiresIn ?? 3600
    const key: SigningKey = { secret: this.secret }
    const jkt = await this.store.accountKey(sub, request.key ? await calculateJwkThumbprint(request.key, 'sha256') : null)
    const token = await signToken({ sub, sid, ws, name: request.device ?? 'dev device', ...(jkt ? { cnf: { jkt } } : {}) }, key, {
      expiresIn,
      issuer: this.signing.issuer,
      audience: this.signing.audience,
    })
    const response: DevTokenResponse = { token, sub, sid, ws, personalWorkspace: workspace, expiresAt: Math.floor(Date.now() / 1000) + expiresIn }
    if (jkt) response.jkt = jkt
    return response
  }
}

const B64URL = /^[A-Za-z0-9_-]{43}$/

/** An ES256 public JWK (P-256, 32-byte coordinates), copied to its public members; anything else is refused. */
function publicSigningJwk(v: unknown): JWK {
  const k = v as Record<string, unknown> | null
  if (typeof k !== 'object' || k === null || Array.isArray(k) || k.kty !== 'EC' || k.crv !== 'P-256' || 'd' in k)
    throw new DevAuthError('key must be a public P-256 JWK (kty EC, crv P-256, no d)')
  if (typeof k.x !== 'string' || typeof k.y !== 'string' || !B64URL.test(k.x) || !B64URL.test(k.y))
    throw new DevAuthError('key must have base64url x and y of 32 bytes')
  return { kty: 'EC', crv: 'P-256', x: k.x, y: k.y }
}
