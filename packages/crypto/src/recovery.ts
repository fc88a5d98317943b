/**
 * Recovery: the account's private key wrapped under a passphrase (PBES2-HS512+A256KW), safe to store on the
 * relay. The relay never sees the passphrase or the plaintext key; a new device unwraps it with the passphrase.
 */
import { CompactEncrypt, type JWK, compactDecrypt, errors } from 'jose'
import type { AccountKeys } from './account-keys.js'
import { CryptoError } from './errors.js'

const ALG = 'PBES2-HS512+A256KW'
/** PBKDF2 iterations: OWASP's 2023 figure for HMAC-SHA512. */
export const RECOVERY_ITERATIONS = 210_000

export const lockAccountKeys = async (keys: AccountKeys, passphrase: string, iterations = RECOVERY_ITERATIONS): Promise<string> => {
  if (passphrase.length < 8) throw new CryptoError('BAD_KEY', 'a recovery passphrase needs at least 8 characters')
  const plaintext = new TextEncoder().encode(JSON.stringify({ publicJwk: keys.publicJwk, privateJwk: keys.privateJwk }))
  return new CompactEncrypt(plaintext)
    .setProtectedHeader({ alg: ALG, enc: 'A256GCM', p2c: iterations, cty: 'apisync-account-keys' })
    .encrypt(new TextEncoder().encode(passphrase))
}

export const unlockAccountKeys = async (backup: string, passphrase: string): Promise<AccountKeys> => {
  let plaintext: Uint8Array
  try {
    ;({ plaintext } = await compactDecrypt(backup, new TextEncoder().encode(passphrase), {
      keyManagementAlgorithms: [ALG],
      contentEncryptionAlgorithms: ['A256GCM'],
      maxPBES2Count: 1_000_000,
    }))
  } catch (e) {
    // A wrong passphrase unwraps a wrong key: AES-KW's integrity check fails.
    if (e instanceof errors.JWEDecryptionFailed) throw new CryptoError('WRONG_PASSPHRASE', 'the passphrase does not open this key backup')
    throw new CryptoError('TAMPERED', `the key backup is damaged: ${(e as Error).message}`)
  }
  const parsed = JSON.parse(new TextDecoder().decode(plaintext)) as { publicJwk: JWK; privateJwk: JWK }
  return { publicJwk: parsed.publicJwk, privateJwk: parsed.privateJwk }
}
