/** Signing access tokens, for host apps that issue their own (and for the relay's dev auth). */
import { SignJWT } from 'jose'
import type { Role } from './auth.js'

export interface TokenClaims {
  /** Account id. */
  sub: string
  /** Session id (one signed-in app); keep it across token refreshes of that app. */
  sid: string
  /** Workspace id → role. */
  ws: Record<string, Role>
  /** Device name, shown in the session list. */
  name?: string
  /**
   * RFC 7800 key confirmation: the RFC 7638 thumbprint of the account's ES256 signing key, as the host knows
   * it. The relay ignores it; clients check the key they hold against it (@apisync/crypto checkKeyEndorsement).
   */
  cnf?: { jkt: string }
}

export type SigningKey = { secret: string } | { privateKey: CryptoKey; alg: 'ES256' | 'RS256' }

export interface SignOptions {
  /** Seconds from now (number) or a jose timespan ('2h', '15 min'). Default '1h'. */
  expiresIn?: string | number
  issuer?: string
  audience?: string
  /** Seconds from now (number) or a jose timespan. */
  notBefore?: string | number
}

/** Sign an access token the relay accepts (HS256 with a secret, or ES256/RS256 with a private key). */
export async function signToken(claims: TokenClaims, key: SigningKey, options: SignOptions = {}): Promise<string> {
  const alg = 'secret' in key ? 'HS256' : key.alg
  const now = Math.floor(Date.now() / 1000)
  const at = (t: string | number) => (typeof t === 'number' ? now + t : t)
  const jwt = new SignJWT({ sid: claims.sid, ws: claims.ws, ...(claims.name ? { name: claims.name } : {}), ...(claims.cnf ? { cnf: { jkt: claims.cnf.jkt } } : {}) })
    .setProtectedHeader({ alg, typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt(now)
    .setExpirationTime(at(options.expiresIn ?? '1h'))
  if (options.issuer) jwt.setIssuer(options.issuer)
  if (options.audience) jwt.setAudience(options.audience)
  if (options.notBefore !== undefined) jwt.setNotBefore(at(options.notBefore))
  return jwt.sign('secret' in key ? new TextEncoder().encode(key.secret) : key.privateKey)
}
