/**
 * An account's keys: an ECDH P-256 pair that workspace data keys are wrapped to, and an ES256 pair that signs
 * the account's membership and key records (records.ts). The private keys never leave the account's devices
 * except wrapped under the recovery passphrase (recovery.ts); the public keys go into the records of each
 * workspace the account is a member of.
 */
import { type JWK, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK } from 'jose'
import { CryptoError } from './errors.js'

export const WRAP_ALG = 'ECDH-ES+A256KW'
export const SIGN_ALG = 'ES256'

export interface KeyPair {
  readonly publicJwk: JWK
  readonly privateJwk: JWK
}

export interface AccountKeys {
  /** ECDH P-256: the workspaces' data keys are wrapped to it. */
  readonly publicJwk: JWK
  readonly privateJwk: JWK
  /**
   * ES256: signs this account's records. Absent only in keys restored from a backup made before records were
   * signed: `withSigningKey` adds one (then store the keys and back them up again).
   */
  readonly signing?: KeyPair
}

export type SigningAccountKeys = AccountKeys & { readonly signing: KeyPair }

/** An account's public keys, as records carry them: `sig` is absent for accounts from before signing. */
export interface PublicKeys {
  readonly enc: JWK
  readonly sig?: JWK
}

const pair = async (alg: string): Promise<KeyPair> => {
  const { publicKey, privateKey } = await generateKeyPair(alg, { crv: 'P-256', extractable: true })
  return { publicJwk: await exportJWK(publicKey), privateJwk: await exportJWK(privateKey) }
}

export const generateAccountKeys = async (): Promise<SigningAccountKeys> => {
  const [enc, signing] = await Promise.all([pair(WRAP_ALG), pair(SIGN_ALG)])
  return { publicJwk: enc.publicJwk, privateJwk: enc.privateJwk, signing }
}

/**
 * Keys restored from an older backup have no signing pair: this makes one (`created: true`). The new public
 * signing key is a key change the account's workspaces must see: see `announceKeys` and docs/architecture.md.
 */
export const withSigningKey = async (keys: AccountKeys): Promise<{ keys: SigningAccountKeys; created: boolean }> =>
  keys.signing ? { keys: keys as SigningAccountKeys, created: false } : { keys: { ...keys, signing: await pair(SIGN_ALG) }, created: true }

/** A P-256 public JWK with only its public members, or a BAD_KEY error. */
export const checkPublicJwk = (jwk: unknown): JWK => {
  const k = jwk as JWK
  if (typeof k !== 'object' || k === null || k.kty !== 'EC' || k.crv !== 'P-256' || typeof k.x !== 'string' || typeof k.y !== 'string')
    throw new CryptoError('BAD_KEY', 'expected a P-256 public JWK')
  if (!/^[A-Za-z0-9_-]{43}$/.test(k.x) || !/^[A-Za-z0-9_-]{43}$/.test(k.y)) throw new CryptoError('BAD_KEY', 'expected a P-256 public JWK')
  return { kty: 'EC', crv: 'P-256', x: k.x, y: k.y }
}

export const publicKeysOf = (keys: AccountKeys): PublicKeys =>
  keys.signing ? { enc: checkPublicJwk(keys.publicJwk), sig: checkPublicJwk(keys.signing.publicJwk) } : { enc: checkPublicJwk(keys.publicJwk) }

/** RFC 7638 thumbprint (SHA-256) of a public key: how records and tokens (`cnf.jkt`) name a key. */
export const thumbprint = (jwk: JWK): Promise<string> => calculateJwkThumbprint(checkPublicJwk(jwk), 'sha256')

const privateKeys = new WeakMap<JWK, Promise<CryptoKey>>()
const importPrivateAs = (jwk: JWK, alg: string): Promise<CryptoKey> => {
  let k = privateKeys.get(jwk)
  if (!k) {
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.d !== 'string') throw new CryptoError('BAD_KEY', 'expected a P-256 private JWK')
    k = importJWK(jwk, alg) as Promise<CryptoKey>
    privateKeys.set(jwk, k)
  }
  return k
}

export const importPrivate = (jwk: JWK): Promise<CryptoKey> => importPrivateAs(jwk, WRAP_ALG)
export const importSigningKey = (jwk: JWK): Promise<CryptoKey> => importPrivateAs(jwk, SIGN_ALG)

/** Imported public verification keys by thumbprint (records are verified again on every open). */
const verifyKeys = new Map<string, Promise<CryptoKey>>()
export const importVerifyKey = (jwk: JWK, jkt: string): Promise<CryptoKey> => {
  let k = verifyKeys.get(jkt)
  if (!k) {
    k = importJWK(checkPublicJwk(jwk), SIGN_ALG) as Promise<CryptoKey>
    if (verifyKeys.size > 10_000) verifyKeys.clear()
    verifyKeys.set(jkt, k)
    k.catch(() => verifyKeys.delete(jkt))
  }
  return k
}
