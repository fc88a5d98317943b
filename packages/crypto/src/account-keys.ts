/**
 * An account's key pair (ECDH P-256). The private key never leaves the account's devices except wrapped under
 * the recovery passphrase (recovery.ts); the public key goes into each workspace manifest it is a member of.
 */
import { type JWK, exportJWK, generateKeyPair, importJWK } from 'jose'
import { CryptoError } from './errors.js'

export const WRAP_ALG = 'ECDH-ES+A256KW'

export interface AccountKeys {
  readonly publicJwk: JWK
  readonly privateJwk: JWK
}

export const generateAccountKeys = async (): Promise<AccountKeys> => {
  const { publicKey, privateKey } = await generateKeyPair(WRAP_ALG, { crv: 'P-256', extractable: true })
  return { publicJwk: await exportJWK(publicKey), privateJwk: await exportJWK(privateKey) }
}

export const checkPublicJwk = (jwk: unknown): JWK => {
  const k = jwk as JWK
  if (typeof k !== 'object' || k === null || k.kty !== 'EC' || k.crv !== 'P-256' || typeof k.x !== 'string' || typeof k.y !== 'string')
    throw new CryptoError('BAD_KEY', 'expected a P-256 public JWK')
  return { kty: 'EC', crv: 'P-256', x: k.x, y: k.y }
}

export const importPrivate = async (jwk: JWK) => {
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.d !== 'string') throw new CryptoError('BAD_KEY', 'expected a P-256 private JWK')
  return importJWK(jwk, WRAP_ALG)
}
