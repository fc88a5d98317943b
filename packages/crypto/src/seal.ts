/**
 * Sealed values: a variable's shared value as a JWE compact string (`dir` + A256GCM) under a workspace data
 * key, made before the value enters a Y.Doc. The protected header names the key generation (`kid`) and binds
 * the ciphertext to its place (`ctx`, e.g. the environment and variable id), so a value copied to another
 * variable is detected as tampering rather than silently accepted.
 */
import type { Json } from '@apisync/model'
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose'
import type { DataKey } from './data-keys.js'
import { CryptoError } from './errors.js'

const CTY = 'apisync-value'

/** What reading a sealed value gives: the value, or `locked` when this device holds no key for it. */
export type Opened = { readonly state: 'open'; readonly value: Json } | { readonly state: 'locked'; readonly kid: string }

/** Imported AES keys, one per data key: importing raw key bytes on every value costs more than the cipher. */
const imported = new WeakMap<DataKey, Promise<CryptoKey>>()
const aesKey = (key: DataKey): Promise<CryptoKey> => {
  let k = imported.get(key)
  if (!k) {
    k = globalThis.crypto.subtle.importKey('raw', key.key as Uint8Array<ArrayBuffer>, 'AES-GCM', false, ['encrypt', 'decrypt'])
    imported.set(key, k)
  }
  return k
}

export const sealValue = async (value: Json, key: DataKey, context: string): Promise<string> =>
  new CompactEncrypt(new TextEncoder().encode(JSON.stringify(value)))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: key.kid, cty: CTY, ctx: context })
    .encrypt(await aesKey(key))

/** Whether a stored value is a sealed value (a JWE made by sealValue), without decrypting it. */
export const sealedKid = (stored: unknown): string | undefined => {
  if (typeof stored !== 'string' || stored.split('.').length !== 5) return undefined
  try {
    const header = decodeProtectedHeader(stored)
    return header.cty === CTY && typeof header.kid === 'string' ? header.kid : undefined
  } catch {
    return undefined
  }
}

/** Where data keys come from: a map, or a keyring (which unwraps each on first use). */
export type KeySource = ReadonlyMap<string, DataKey> | { key(kid: string): Promise<DataKey | undefined> }

export const openValue = async (stored: string, keyring: KeySource, context: string): Promise<Opened> => {
  const kid = sealedKid(stored)
  if (kid === undefined) throw new CryptoError('NOT_SEALED', 'not a sealed value')
  const key = 'key' in keyring ? await keyring.key(kid) : keyring.get(kid)
  if (!key) return { state: 'locked', kid }
  try {
    const { plaintext, protectedHeader } = await compactDecrypt(stored, await aesKey(key), {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
    })
    if (protectedHeader.ctx !== context) throw new CryptoError('TAMPERED', 'a sealed value was moved from another variable')
    return { state: 'open', value: JSON.parse(new TextDecoder().decode(plaintext)) as Json }
  } catch (e) {
    if (e instanceof CryptoError) throw e
    throw new CryptoError('TAMPERED', 'a sealed value failed authentication: it was altered')
  }
}
