/**
 * Access-token verification with jose: HS256 with a shared secret, ES256/RS256 with a PEM public key or a
 * JWKS (https URL or file). `exp` is required; `nbf`, `iss` and `aud` are checked when present/configured.
 */
import { createPublicKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  type FlattenedJWSInput,
  type JWTPayload,
} from 'jose'
import { isWorkspaceId } from './doc-name.js'
import { ConfigError, RelayError, TokenError } from './errors.js'

export type Role = 'owner' | 'editor' | 'viewer'
export const roles: readonly Role[] = ['owner', 'editor', 'viewer']

export interface AuthConfig {
  /** HS256 shared secret. */
  secret?: string
  /** PEM public key (SPKI); its type selects ES256 (P-256) or RS256 (RSA). */
  publicKey?: string
  /** JWKS: an https URL (fetched and cached by jose) or a file path. */
  jwks?: string
  issuer?: string
  audience?: string
  /** Seconds of clock skew tolerated on exp/nbf. Default 0. */
  clockTolerance?: number
}

/** The claims of a verified access token. */
export interface AccessClaims {
  /** Account id. */
  sub: string
  /** Session id: one signed-in app on one device. */
  sid: string
  /** Workspace id → role. */
  ws: Record<string, Role>
  /** Device name, if the signer included one. */
  name?: string
  /** Expiry, seconds since the epoch. */
  exp: number
  /** Issued at, seconds since the epoch, if present. */
  iat?: number
}

export type TokenVerifier = (token: string) => Promise<AccessClaims>

type VerifyKey = KeyObject | Uint8Array | CryptoKey
type KeySet = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<VerifyKey>

export function createTokenVerifier(config: AuthConfig): TokenVerifier {
  const secret = config.secret ? new TextEncoder().encode(config.secret) : undefined
  const publicKey = config.publicKey ? importPublicKey(config.publicKey) : undefined
  const jwks = config.jwks ? loadKeySet(config.jwks) : undefined
  const algorithms = [
    ...(secret ? ['HS256'] : []),
    ...(publicKey ? [publicKey.alg] : []),
    ...(jwks ? ['ES256', 'RS256'] : []),
  ]
  if (algorithms.length === 0) throw new ConfigError('auth needs a secret, a public key or a JWKS')

  const getKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<VerifyKey> => {
    if (header.alg === 'HS256' && secret) return secret
    if (publicKey && header.alg === publicKey.alg && (!jwks || header.kid === undefined)) return publicKey.key
    if (jwks && (header.alg === 'ES256' || header.alg === 'RS256')) return jwks(header, token)
    throw new TokenError('algorithm not accepted')
  }

  return async (token) => {
    let payload: JWTPayload
    try {
      ;({ payload } = await jwtVerify(token, getKey, {
        algorithms: [...new Set(algorithms)],
        issuer: config.issuer,
        audience: config.audience,
        requiredClaims: ['exp'],
        clockTolerance: config.clockTolerance ?? 0,
      }))
    } catch (err) {
      throw tokenFailure(err)
    }
    return readClaims(payload)
  }
}

function readClaims(payload: JWTPayload): AccessClaims {
  const { sub, sid, ws, name, exp, iat } = payload
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 200) throw new TokenError('invalid sub claim')
  if (typeof sid !== 'string' || sid.length === 0 || sid.length > 200) throw new TokenError('invalid sid claim')
  if (typeof ws !== 'object' || ws === null || Array.isArray(ws)) throw new TokenError('invalid ws claim')
  const grants: Record<string, Role> = Object.create(null)
  for (const [id, role] of Object.entries(ws)) {
    if (!isWorkspaceId(id) || !roles.includes(role as Role)) throw new TokenError('invalid ws claim')
    grants[id] = role as Role
  }
  if (name !== undefined && typeof name !== 'string') throw new TokenError('invalid name claim')
  return { sub, sid, ws: grants, exp: exp as number, ...(name ? { name } : {}), ...(typeof iat === 'number' ? { iat } : {}) }
}

/** Map jose's failures to a 4401 with a short reason; a key set we cannot reach is our problem (1013). */
function tokenFailure(err: unknown): RelayError {
  if (err instanceof RelayError) return err
  if (err instanceof errors.JWTExpired) return new TokenError('token expired')
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return new TokenError('token not yet valid')
    if (err.claim === 'iss') return new TokenError('wrong issuer')
    if (err.claim === 'aud') return new TokenError('wrong audience')
    return new TokenError(`invalid ${err.claim} claim`)
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return new TokenError('algorithm not accepted')
  if (err instanceof errors.JWSSignatureVerificationFailed) return new TokenError('bad signature')
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys)
    return new TokenError('no matching key')
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || !(err instanceof errors.JOSEError))
    return new RelayError(1013, 'key set unavailable', { cause: err })
  return new TokenError('malformed token')
}

function importPublicKey(pemOrPath: string): { key: KeyObject; alg: 'ES256' | 'RS256' } {
  let key: KeyObject
  try {
    const pem = pemOrPath.includes('-----BEGIN') ? pemOrPath : readFileSync(pemOrPath, 'utf8')
    key = createPublicKey(pem)
  } catch (cause) {
    throw new ConfigError('publicKey is not a PEM public key (or a file holding one)', { cause })
  }
  if (key.asymmetricKeyType === 'rsa') return { key, alg: 'RS256' }
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return { key, alg: 'ES256' }
  throw new ConfigError('publicKey must be an RSA (RS256) or P-256 (ES256) key')
}

function loadKeySet(source: string): KeySet {
  if (/^https?:\/\//i.test(source)) {
    const url = new URL(source)
    const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)
    if (url.protocol !== 'https:' && !loopback) throw new ConfigError('jwks URL must use https')
    return createRemoteJWKSet(url) as KeySet
  }
  let set: JSONWebKeySet
  try {
    set = JSON.parse(readFileSync(source, 'utf8')) as JSONWebKeySet
  } catch (cause) {
    throw new ConfigError(`cannot read JWKS file ${source}`, { cause })
  }
  return createLocalJWKSet(set) as KeySet
}
