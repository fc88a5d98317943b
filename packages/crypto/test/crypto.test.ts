import { describe, expect, test } from 'vitest'
import { CompactEncrypt } from 'jose'
import {
  CryptoError,
  generateAccountKeys,
  generateDataKey,
  lockAccountKeys,
  openValue,
  sealValue,
  sealedKid,
  unlockAccountKeys,
  unwrapDataKey,
  wrapDataKey,
} from '@apisync/crypto'

const code = async (p: Promise<unknown>) => {
  try {
    await p
  } catch (e) {
    expect(e).toBeInstanceOf(CryptoError)
    return (e as CryptoError).code
  }
  throw new Error('expected a CryptoError')
}

/** Flips one character in the given segment of a JWE compact string. */
const tamper = (jwe: string, segment: number) => {
  const parts = jwe.split('.')
  const s = parts[segment]!
  const i = Math.floor(s.length / 2)
  parts[segment] = s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1)
  return parts.join('.')
}

describe('recovery', () => {
  test('the passphrase opens the backup and nothing else does', async () => {
    const keys = await generateAccountKeys()
    const backup = await lockAccountKeys(keys, 'correct horse battery', 20_000)
    expect(backup).not.toContain(keys.privateJwk.d!)
    expect(await unlockAccountKeys(backup, 'correct horse battery')).toEqual(keys)
    expect(await code(unlockAccountKeys(backup, 'wrong horse battery'))).toBe('WRONG_PASSPHRASE')
    expect(['TAMPERED', 'WRONG_PASSPHRASE']).toContain(await code(unlockAccountKeys(tamper(backup, 3), 'correct horse battery')))
    expect(await code(unlockAccountKeys('not.a.jwe', 'correct horse battery'))).toBe('TAMPERED')
  })

  test('default iterations work, and short passphrases are refused', async () => {
    const keys = await generateAccountKeys()
    expect(await unlockAccountKeys(await lockAccountKeys(keys, 'a long enough one'), 'a long enough one')).toEqual(keys)
    expect(await code(lockAccountKeys(keys, 'short'))).toBe('BAD_KEY')
  })
})

describe('data keys', () => {
  test('wrapped for a member, opened only with their private key', async () => {
    const ann = await generateAccountKeys()
    const bob = await generateAccountKeys()
    const key = generateDataKey()
    const jwe = await wrapDataKey(key, ann.publicJwk)
    const back = await unwrapDataKey(jwe, ann.privateJwk)
    expect(back.kid).toBe(key.kid)
    expect(Array.from(back.key)).toEqual(Array.from(key.key))
    expect(await code(unwrapDataKey(jwe, bob.privateJwk))).toBe('TAMPERED')
    expect(await code(unwrapDataKey(tamper(jwe, 4), ann.privateJwk))).toBe('TAMPERED')
    expect(await code(unwrapDataKey('garbage', ann.privateJwk))).toBe('TAMPERED')
    expect(await code(unwrapDataKey(jwe, ann.publicJwk))).toBe('BAD_KEY')
    expect(await code(wrapDataKey(key, { kty: 'oct', k: 'AAAA' }))).toBe('BAD_KEY')
  })
})

describe('sealed values', () => {
  test('round trip, bound to their place, tamper-evident, locked without the key', async () => {
    const key = generateDataKey()
    const ring = new Map([[key.kid, key]])
    const sealed = await sealValue('s3cr3t-token', key, 'env1/row1')
    expect(sealed).not.toContain('s3cr3t')
    expect(sealedKid(sealed)).toBe(key.kid)
    expect(await openValue(sealed, ring, 'env1/row1')).toEqual({ state: 'open', value: 's3cr3t-token' })
    expect(await openValue(await sealValue({ n: 1, ok: true }, key, 'c'), ring, 'c')).toEqual({ state: 'open', value: { n: 1, ok: true } })
    // Moved to another variable: refused.
    expect(await code(openValue(sealed, ring, 'env1/row2'))).toBe('TAMPERED')
    // Altered ciphertext, tag, iv: refused.
    for (const segment of [2, 3, 4]) expect(await code(openValue(tamper(sealed, segment), ring, 'env1/row1'))).toBe('TAMPERED')
    // Another generation's key: locked, not garbage.
    expect(await openValue(sealed, new Map(), 'env1/row1')).toEqual({ state: 'locked', kid: key.kid })
    // A key swapped in under the right kid: refused.
    const other = generateDataKey()
    expect(await code(openValue(sealed, new Map([[key.kid, { kid: key.kid, key: other.key }]]), 'env1/row1'))).toBe('TAMPERED')
    // Plain strings, other JWEs: not sealed values.
    expect(sealedKid('https://example.test')).toBeUndefined()
    const foreign = await new CompactEncrypt(new TextEncoder().encode('x')).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(key.key)
    expect(sealedKid(foreign)).toBeUndefined()
    expect(await code(openValue(foreign, ring, 'c'))).toBe('NOT_SEALED')
  })
})
