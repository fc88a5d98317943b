/**
 * Recovery: the account's key pairs wrapped under a passphrase (PBES2-HS512+A256KW), safe to store on the
 * relay. The relay never sees the passphrase or the plaintext keys; a new device unwraps them with the
 * passphrase. Backups made before records were signed hold the ECDH pair only: they still open, without
 * `signing` (see `withSigningKey`).
 */
import { CompactEncrypt, type JWK, compactDecrypt, errors } from 'jose'
import type { AccountKeys, KeyPair } from './account-keys.js'
import { CryptoError } from './errors.js'

const ALG = 'PBES2-HS512+A256KW'
/** PBKDF2 iterations: OWASP's 2023 figure for HMAC-SHA512. */
export const RECOVERY_ITERATIONS = 210_000

export const lockAccountKeys = async (keys: AccountKeys, passphrase: string, iterations = RECOVERY_ITERATIONS): Promise<string> => {
  if (passphrase.length < 8) throw new CryptoError('BAD_KEY', 'a recovery passphrase needs at least 8 characters')
  const plaintext = new TextEncoder().encode(
    JSON.stringify({ publicJwk: keys.publicJwk, privateJwk: keys.privateJwk, ...(keys.signing ? { signing: keys.signing } : {}) }),
  )
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
  let parsed: { publicJwk?: JWK; privateJwk?: JWK; signing?: Partial<KeyPair> }
  try {
    parsed = JSON.parse(new TextDecoder().decode(plaintext)) as typeof parsed
  } catch {
    throw new CryptoError('TAMPERED', 'the key backup does not hold keys')
  }
  const isPair = (pub: unknown, priv: unknown) =>
    typeof pub === 'object' && pub !== null && typeof priv === 'object' && priv !== null && typeof (priv as JWK).d === 'string'
  if (!isPair(parsed.publicJwk, parsed.privateJwk)) throw new CryptoError('TAMPERED', 'the key backup does not hold keys')
  const keys = { publicJwk: parsed.publicJwk!, privateJwk: parsed.privateJwk! }
  const signing = parsed.signing
  return signing && isPair(signing.publicJwk, signing.privateJwk)
    ? { ...keys, signing: { publicJwk: signing.publicJwk!, privateJwk: signing.privateJwk! } }
    : keys
}
