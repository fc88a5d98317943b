/**
 * Workspace data keys: 256-bit AES keys, one per generation (`kid`), wrapped for each member with
 * ECDH-ES+A256KW to the member's public key. Removing a member starts a new generation.
 */
import { CompactEncrypt, type JWK, base64url, compactDecrypt, decodeProtectedHeader, importJWK } from 'jose'
import { WRAP_ALG, checkPublicJwk, importPrivate } from './account-keys.js'
import { CryptoError } from './errors.js'

export interface DataKey {
  readonly kid: string
  readonly key: Uint8Array
}

export const generateDataKey = (): DataKey => {
  const key = globalThis.crypto.getRandomValues(new Uint8Array(32))
  const kid = base64url.encode(globalThis.crypto.getRandomValues(new Uint8Array(12)))
  return { kid, key }
}

/** SHA-256 of a data key, base64url: how a genesis record vouches for a generation from before signing. */
export const keyHash = async (key: DataKey): Promise<string> =>
  base64url.encode(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', key.key as Uint8Array<ArrayBuffer>)))

export const wrapDataKey = async (dataKey: DataKey, memberPublicJwk: JWK): Promise<string> => {
  const publicKey = await importJWK(checkPublicJwk(memberPublicJwk), WRAP_ALG)
  return new CompactEncrypt(dataKey.key)
    .setProtectedHeader({ alg: WRAP_ALG, enc: 'A256GCM', kid: dataKey.kid, cty: 'apisync-data-key' })
    .encrypt(publicKey)
}

export const unwrapDataKey = async (jwe: string, privateJwk: JWK): Promise<DataKey> => {
  let kid: unknown
  try {
    kid = decodeProtectedHeader(jwe).kid
  } catch {
    throw new CryptoError('TAMPERED', 'a wrapped data key is not a JWE')
  }
  try {
    const { plaintext } = await compactDecrypt(jwe, await importPrivate(privateJwk), {
      keyManagementAlgorithms: [WRAP_ALG],
      contentEncryptionAlgorithms: ['A256GCM'],
    })
    if (plaintext.length !== 32 || typeof kid !== 'string') throw new Error('not a data key')
    return { kid, key: plaintext }
  } catch (e) {
    if (e instanceof CryptoError) throw e
    throw new CryptoError('TAMPERED', `a wrapped data key does not open: ${(e as Error).message}`)
  }
}
