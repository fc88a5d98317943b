/** Token verification (jose): HS256, ES256/RS256 public keys and JWKS (file and URL), and signToken. */
import { createServer, type Server } from 'node:http'
import { writeFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { exportJWK, exportSPKI, generateKeyPair } from 'jose'
import { afterAll, describe, expect, it } from 'vitest'
import { ConfigError, RelayError, TokenError, createTokenVerifier, signToken } from '@apisync/relay'
import { SECRET, tempDir } from './helpers.js'

const claims = { sub: 'alice', sid: 's1', ws: { w1: 'owner' as const, w2: 'viewer' as const }, name: 'Laptop' }
const cleanup: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const c of cleanup) await c()
})

describe('HS256', () => {
  it('verifies a token signed with the secret and returns its claims', async () => {
    const verify = createTokenVerifier({ secret: SECRET, issuer: 'iss', audience: 'aud' })
    const token = await signToken(claims, { secret: SECRET }, { issuer: 'iss', audience: 'aud', expiresIn: 60 })
    const got = await verify(token)
    expect(got).toMatchObject({ sub: 'alice', sid: 's1', ws: { w1: 'owner', w2: 'viewer' }, name: 'Laptop' })
    expect(got.exp - Math.floor(Date.now() / 1000)).toBeGreaterThan(55)
  })

  it('tolerates clock skew only as configured', async () => {
    const token = await signToken(claims, { secret: SECRET }, { expiresIn: -3 })
    await expect(createTokenVerifier({ secret: SECRET })(token)).rejects.toThrow(TokenError)
    await expect(createTokenVerifier({ secret: SECRET, clockTolerance: 10 })(token)).resolves.toMatchObject({ sub: 'alice' })
  })
})

describe('public keys', () => {
  it.each(['ES256', 'RS256'] as const)('%s with a PEM public key (text or file)', async (alg) => {
    const { publicKey, privateKey } = await generateKeyPair(alg)
    const pem = await exportSPKI(publicKey)
    const token = await signToken(claims, { privateKey, alg }, {})
    await expect(createTokenVerifier({ publicKey: pem })(token)).resolves.toMatchObject({ sub: 'alice' })
    const dir = await tempDir()
    cleanup.push(() => rm(dir, { recursive: true, force: true }))
    await writeFile(join(dir, 'key.pem'), pem)
    await expect(createTokenVerifier({ publicKey: join(dir, 'key.pem') })(token)).resolves.toMatchObject({ sid: 's1' })
    // A token signed by another key of the same type is refused; so is HS256 when only a public key is set.
    const other = await generateKeyPair(alg)
    await expect(createTokenVerifier({ publicKey: pem })(await signToken(claims, { privateKey: other.privateKey, alg }))).rejects.toThrow(TokenError)
    await expect(createTokenVerifier({ publicKey: pem })(await signToken(claims, { secret: SECRET }))).rejects.toThrow(TokenError)
  })

  it('JWKS from a file and from a URL, choosing the key by kid', async () => {
    const es = await generateKeyPair('ES256')
    const rs = await generateKeyPair('RS256')
    const jwks = { keys: [{ ...(await exportJWK(es.publicKey)), kid: 'es', alg: 'ES256' }, { ...(await exportJWK(rs.publicKey)), kid: 'rs', alg: 'RS256' }] }
    const dir = await tempDir()
    cleanup.push(() => rm(dir, { recursive: true, force: true }))
    await writeFile(join(dir, 'jwks.json'), JSON.stringify(jwks))

    let fetches = 0
    const server: Server = createServer((_req, res) => {
      fetches++
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify(jwks))
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    cleanup.push(() => new Promise((r) => server.close(() => r())))
    const port = (server.address() as { port: number }).port

    const { SignJWT } = await import('jose')
    const sign = (key: CryptoKey, alg: string, kid: string) =>
      new SignJWT({ sid: 's', ws: { w1: 'editor' } }).setProtectedHeader({ alg, kid }).setSubject('bob').setExpirationTime('5m').sign(key)
    for (const source of [join(dir, 'jwks.json'), `http://127.0.0.1:${port}/jwks.json`]) {
      const verify = createTokenVerifier({ jwks: source })
      await expect(verify(await sign(es.privateKey, 'ES256', 'es'))).resolves.toMatchObject({ sub: 'bob', ws: { w1: 'editor' } })
      await expect(verify(await sign(rs.privateKey, 'RS256', 'rs'))).resolves.toMatchObject({ sub: 'bob' })
      await expect(verify(await sign(es.privateKey, 'ES256', 'unknown'))).rejects.toThrow(TokenError)
    }
    expect(fetches).toBeGreaterThan(0)
  })

  it('an unreachable JWKS is the relay’s problem (1013 try again later), not a bad token', async () => {
    const verify = createTokenVerifier({ jwks: 'http://127.0.0.1:1/jwks.json' })
    const { privateKey } = await generateKeyPair('ES256')
    const err = await verify(await signToken(claims, { privateKey, alg: 'ES256' })).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RelayError)
    expect((err as RelayError).code).toBe(1013)
  })
})

describe('configuration errors', () => {
  it('refuses at start what could never verify a token', async () => {
    expect(() => createTokenVerifier({})).toThrow(ConfigError)
    expect(() => createTokenVerifier({ publicKey: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----' })).toThrow(ConfigError)
    expect(() => createTokenVerifier({ publicKey: '/no/such/key.pem' })).toThrow(ConfigError)
    expect(() => createTokenVerifier({ jwks: '/no/such/jwks.json' })).toThrow(ConfigError)
    expect(() => createTokenVerifier({ jwks: 'http://keys.example.com/jwks.json' })).toThrow(/https/)
    // P-384 is not ES256.
    const { publicKey } = await generateKeyPair('ES384')
    const pem = await exportSPKI(publicKey)
    expect(() => createTokenVerifier({ publicKey: pem })).toThrow(/P-256/)
  })
})
