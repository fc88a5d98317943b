/**
 * The signed keyring (issue #10): roles, the chain of authority, what is ignored and why, pins and key changes,
 * token endorsement, accounts from before signing, and workspaces whose records are unsigned.
 */
import * as Y from 'yjs'
import { SignJWT, base64url } from 'jose'
import { describe, expect, test } from 'vitest'
import {
  CryptoError,
  acceptKeyChange,
  addMember,
  endorseKeys,
  generateAccountKeys,
  generateDataKey,
  initWorkspaceKeys,
  lockAccountKeys,
  maintainKeyring,
  publicKeysOf,
  removeMember,
  resignUnsigned,
  rotateKeys,
  safetyCode,
  setRole,
  thumbprint,
  trustGenesis,
  unlockAccountKeys,
  unlockKeyring,
  withSigningKey,
  wrapDataKey,
} from '@apisync/crypto'
import { WS, codes, craft, device, person, putRecord, readEnv, sealedEnv, sync } from './helpers.js'
import { relay } from '../client/helpers.js'

const refused = async (p: Promise<unknown>, code: string) => {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  )
  expect(e).toBeInstanceOf(CryptoError)
  expect((e as CryptoError).code).toBe(code)
}

/** Ann owns the workspace; Bob is an admin, Carl a member; each with a device synced to Ann's. */
const team = async () => {
  const [ann, bob, carl] = await Promise.all([person('ann'), person('bob'), person('carl')])
  const a = device(ann)
  await initWorkspaceKeys(a.scope)
  await addMember(a.scope, { accountId: 'bob', name: 'Bob', keys: publicKeysOf(bob.keys) }, 'admin')
  await addMember(a.scope, { accountId: 'carl', name: 'Carl', keys: publicKeysOf(carl.keys) })
  const b = device(bob, new Y.Doc())
  const c = device(carl, new Y.Doc())
  sync(a.doc, b.doc, c.doc)
  return { ann, bob, carl, a, b, c }
}

describe('roles and the chain of authority', () => {
  test('owner, admin and member all read; safety codes match each side; a removed member cannot read later values', async () => {
    const { a, b, c, carl } = await team()
    const [ra, rb, rc] = await Promise.all([a.ring(), b.ring(), c.ring()])
    expect(ra.status).toBe('verified')
    expect(ra.members.map((m) => [m.accountId, m.role])).toEqual([
      ['ann', 'owner'],
      ['bob', 'admin'],
      ['carl', 'member'],
    ])
    expect([rb.role, rc.role]).toEqual(['admin', 'member'])
    expect(ra.problems).toEqual([])
    expect(ra.currentKid).toBe(rc.currentKid)
    // Carl's safety code, as Ann's device computes it from the records, is the one Carl's device shows.
    expect(ra.members.find((m) => m.accountId === 'carl')!.safetyCode).toBe(await safetyCode(carl.keys))
    expect(ra.members.find((m) => m.accountId === 'carl')!.safetyCode).toMatch(/^\d{5} \d{5} \d{5} \d{5}$/)

    const before = await sealedEnv(ra, 'before')
    expect((await readEnv(before, rc)).value).toBe('before')

    // Bob (an admin) removes Carl: a new generation that Carl does not hold.
    const rb2 = await removeMember(b.scope, 'carl')
    sync(a.doc, b.doc, c.doc)
    const [ra2, rc2] = await Promise.all([a.ring(), c.ring()])
    expect(ra2.currentKid).toBe(rb2.currentKid)
    expect(ra2.currentKid).not.toBe(ra.currentKid)
    expect(ra2.removed).toEqual(['carl'])
    expect(rc2.role).toBeUndefined()
    expect(rc2.current).toBeUndefined()
    const after = await sealedEnv(ra2, 'after')
    expect(await readEnv(after, rc2)).toMatchObject({ state: 'locked', value: null })
    expect((await readEnv(after, rb2)).value).toBe('after')
    // What Carl could read before, Carl still can (until it is re-sealed).
    expect((await readEnv(before, rc2)).value).toBe('before')
  })

  test('the API refuses what a role does not allow, and the chain ignores the same records made by hand', async () => {
    const { a, b, c, carl, bob } = await team()
    const outsider = await person('mallory')
    const card = { accountId: 'mallory', keys: publicKeysOf(outsider.keys) }
    await refused(addMember(c.scope, card), 'NOT_ALLOWED')
    await refused(rotateKeys(c.scope), 'NOT_ALLOWED')
    await refused(removeMember(c.scope, 'bob'), 'NOT_ALLOWED')
    await refused(removeMember(b.scope, 'ann'), 'NOT_ALLOWED')
    await refused(addMember(b.scope, card, 'owner' as 'admin'), 'NOT_ALLOWED')

    // Carl (a member, an editor of the docs) signs a generation, an add and a removal himself.
    const ra = await a.ring()
    const heads = await headIds(c)
    const key = generateDataKey()
    const gen = await craft(
      { t: 'generation', ws: WS, by: 'carl', at: Date.now() + 1e9, prev: heads, kid: key.kid, wraps: { ann: await wrapDataKey(key, ra.members[0]!.keys.enc) } },
      carl.keys.signing,
    )
    const add = await craft({ t: 'member', ws: WS, by: 'carl', at: Date.now(), prev: heads, sub: 'mallory', name: '', role: 'admin', keys: card.keys }, carl.keys.signing)
    const rm = await craft({ t: 'remove', ws: WS, by: 'carl', at: Date.now(), prev: heads, sub: 'bob' }, carl.keys.signing)
    // Bob (an admin) tries to remove the owner and to make himself owner.
    const coup = await craft({ t: 'remove', ws: WS, by: 'bob', at: Date.now(), prev: heads, sub: 'ann' }, bob.keys.signing)
    const crown = await craft({ t: 'member', ws: WS, by: 'bob', at: Date.now(), prev: heads, sub: 'bob', name: 'Bob', role: 'owner', keys: publicKeysOf(bob.keys) }, bob.keys.signing)
    putRecord(c.manifest, gen, 'keyWraps')
    putRecord(c.manifest, add)
    putRecord(c.manifest, rm)
    putRecord(c.manifest, coup)
    putRecord(c.manifest, crown)
    sync(a.doc, b.doc, c.doc)
    for (const d of [a, b, c]) {
      const ring = await d.ring()
      expect(ring.currentKid).toBe(ra.currentKid)
      expect(ring.members.map((m) => [m.accountId, m.role])).toEqual([
        ['ann', 'owner'],
        ['bob', 'admin'],
        ['carl', 'member'],
      ])
      expect(codes(ring)).toEqual(['UNAUTHORIZED', 'UNAUTHORIZED', 'UNAUTHORIZED', 'UNAUTHORIZED', 'UNAUTHORIZED'])
    }
    expect((await a.ring()).kids.has(key.kid)).toBe(false)
  })

  test('roles change: the owner makes an admin; an admin cannot change another admin', async () => {
    const { a, b, c } = await team()
    const dave = await person('dave')
    await addMember(b.scope, { accountId: 'dave', keys: publicKeysOf(dave.keys) })
    await setRole(a.scope, 'carl', 'admin')
    sync(a.doc, b.doc, c.doc)
    expect((await c.ring()).role).toBe('admin')
    await refused(setRole(b.scope, 'carl', 'member'), 'NOT_ALLOWED')
    await setRole(a.scope, 'carl', 'member')
    sync(a.doc, b.doc, c.doc)
    expect((await c.ring()).role).toBe('member')
    await refused(rotateKeys(c.scope), 'NOT_ALLOWED')
  })
})

/** The ids of the valid heads a device sees (what an honest author would name as prev). */
async function headIds(d: ReturnType<typeof device>): Promise<string[]> {
  const { parseRecord } = await import('@apisync/crypto')
  const snap = d.manifest.snapshot()
  const all = await Promise.all([...snap.members, ...snap.keyWraps].filter((r) => r.jws).map((r) => parseRecord(r.jws)))
  const seen = new Set(all.flatMap((r) => r.payload.prev))
  return all.filter((r) => !seen.has(r.id)).map((r) => r.id)
}

describe('records that do not verify are ignored and reported, never adopted', () => {
  test('forged, altered, replayed and cross-workspace records', async () => {
    const { a, b, c, ann } = await team()
    const ra = await a.ring()
    const mallory = await person('mallory')
    const heads = await headIds(a)
    const evil = generateDataKey()
    const wrapForAnn = await wrapDataKey(evil, ann.keys.publicJwk)
    // Forged: claims to be by Ann, signed with Mallory's key (naming Ann's key id, or Mallory's).
    const forged = await craft({ t: 'generation', ws: WS, by: 'ann', at: Date.now() + 1e9, prev: heads, kid: evil.kid, wraps: { ann: wrapForAnn } }, mallory.keys.signing)
    const forged2 = await (async () => {
      const r = await craft({ t: 'member', ws: WS, by: 'ann', at: Date.now(), prev: heads, sub: 'mallory', name: '', role: 'admin', keys: publicKeysOf(mallory.keys) }, mallory.keys.signing)
      const [h, p, sig] = r.jws.split('.')
      const header = JSON.parse(new TextDecoder().decode(base64url.decode(h!))) as Record<string, unknown>
      header.kid = await thumbprint(ann.keys.signing.publicJwk)
      return `${base64url.encode(JSON.stringify(header))}.${p}.${sig}`
    })()
    // Altered: Ann's real generation record with its wraps swapped for Mallory's key.
    const real = (await import('@apisync/crypto')).parseRecord
    const genRow = a.manifest.snapshot().keyWraps.find((w) => w.jws)!
    const original = await real(genRow.jws)
    const [h, , sig] = original.jws.split('.')
    const alteredPayload = { ...original.payload, at: Date.now() + 2e9, wraps: { ann: wrapForAnn } }
    const altered = `${h}.${base64url.encode(JSON.stringify(alteredPayload))}.${sig}`
    // Cross-workspace: Ann's own, validly signed generation for another workspace, moved here.
    const other = device(ann, new Y.Doc(), 'ws-other')
    await initWorkspaceKeys(other.scope)
    const foreign = other.manifest.snapshot().keyWraps.find((w) => w.jws)!.jws
    // Replayed: the record that added Carl, copied again after Carl's removal.
    const addCarl = a.manifest.snapshot().members.find((m) => m.accountId === 'carl' && m.jws)!.jws
    await removeMember(a.scope, 'carl')
    const rAfter = await a.ring()

    const m = c.manifest
    m.addRow('keyWraps', { kid: evil.kid, createdAt: Date.now() + 1e9, accountId: 'ann', jwe: '', jws: forged.jws })
    m.addRow('members', { accountId: 'mallory', name: 'x', publicKey: null, jws: forged2 })
    m.addRow('keyWraps', { kid: original.payload.t === 'generation' ? original.payload.kid : '', createdAt: 0, accountId: 'ann', jwe: '', jws: altered })
    m.addRow('keyWraps', { kid: 'x', createdAt: 0, accountId: 'ann', jwe: '', jws: foreign })
    sync(a.doc, b.doc, c.doc)
    m.addRow('members', { accountId: 'carl', name: 'Carl', publicKey: null, jws: addCarl })
    sync(a.doc, b.doc, c.doc)

    for (const d of [a, b]) {
      const ring = await d.ring()
      expect(ring.currentKid).toBe(rAfter.currentKid)
      expect(ring.kids.has(evil.kid)).toBe(false)
      expect(ring.members.map((x) => x.accountId)).toEqual(['ann', 'bob'])
      expect(ring.removed).toEqual(['carl'])
      const byCode = codes(ring)
      expect(byCode).toContain('BAD_SIGNATURE') // forged, altered
      expect(byCode).toContain('OTHER_WORKSPACE')
      expect(byCode.filter((x) => x === 'BAD_SIGNATURE').length).toBeGreaterThanOrEqual(3)
    }
    // The owner keeps reading and writing; Carl stays out of what is written now.
    const ring = await a.ring()
    const env = await sealedEnv(ring, 'still-mine')
    expect((await readEnv(env, ring)).value).toBe('still-mine')
    expect((await readEnv(env, await c.ring())).state).toBe('locked')
    expect(ra.currentKid).not.toBe(ring.currentKid)
  })

  test('junk rows of every field: nothing throws, nothing is adopted, the owner keeps reading and writing', async () => {
    const { a, c } = await team()
    const before = await a.ring()
    const junk: unknown[] = [null, 42, true, 'a.b.c', 'a.b.c.d.e', '', 'x'.repeat(5000), { v: 1 }, ['a'], 'eyJhbGciOiJFUzI1NiJ9.e30.AAAA']
    // Raw Yjs rows: wrong types in every field, malformed entries, and JWS-looking junk that is not a record.
    c.doc.transact(() => {
      const members = c.doc.getMap<Y.Map<unknown>>('workspace.members')
      const wraps = c.doc.getMap<Y.Map<unknown>>('workspace.keyWraps')
      junk.forEach((value, i) => {
        for (const [list, fields] of [
          [members, ['accountId', 'name', 'publicKey', 'jws', 'extra', 'position']],
          [wraps, ['kid', 'createdAt', 'accountId', 'jwe', 'jws', 'extra', 'position']],
        ] as const) {
          const row = new Y.Map<unknown>()
          list.set(`junk${i}`, row)
          row.set('id', `junk${i}`)
          for (const f of fields) row.set(`${f}@77`, { v: value, n: 1 } as never)
          row.set('jws@78', value as never) // not even a register entry
        }
      })
      members.set('not-a-map', 'junk' as never)
      wraps.set('not-a-map', 7 as never)
    })
    // And junk addressed to Ann as unsigned wraps, the kind that used to lock a member out.
    c.manifest.addRow('keyWraps', { kid: 'k', createdAt: Date.now() + 1e12, accountId: 'ann', jwe: 'a.b.c.d.e', jws: '' })
    c.manifest.addRow('keyWraps', { kid: before.currentKid!, createdAt: 1, accountId: 'ann', jwe: 'e30.e30.e30.e30.e30', jws: '' })
    c.manifest.addRow('members', { accountId: 'ann', name: 'Ann', publicKey: { kty: 'EC' }, jws: 'not a jws' })
    sync(a.doc, c.doc)
    const ring = await a.ring()
    expect(ring.currentKid).toBe(before.currentKid)
    expect(ring.current?.key).toEqual(before.current?.key)
    expect(ring.members.map((m) => m.accountId)).toEqual(['ann', 'bob', 'carl'])
    expect(ring.problems.length).toBeGreaterThan(5)
    expect(new Set(codes(ring))).toEqual(new Set(['MALFORMED', 'UNSIGNED']))
    const env = await sealedEnv(ring, 'after-junk')
    expect((await readEnv(env, await c.ring())).value).toBe('after-junk')
  })

  test('a wrap for me that does not open is a problem, not a throw', async () => {
    const { a, b, bob } = await team()
    const wrong = await generateAccountKeys()
    const key = generateDataKey()
    // Bob, a real admin, wraps a generation to the wrong key for Ann (a bug, or an old key).
    const heads = await headIds(b)
    const rec = await craft(
      { t: 'generation', ws: WS, by: 'bob', at: Date.now(), prev: heads, kid: key.kid, wraps: { ann: await wrapDataKey(key, wrong.publicJwk), bob: await wrapDataKey(key, bob.keys.publicJwk) } },
      bob.keys.signing,
    )
    putRecord(b.manifest, rec, 'keyWraps')
    sync(a.doc, b.doc)
    const ring = await a.ring()
    expect(codes(ring)).toEqual(['WRAP_DOES_NOT_OPEN'])
    expect(ring.currentKid).toBe(key.kid)
    expect(ring.current).toBeUndefined()
    // Ann's device cannot repair it (it does not hold the key); Bob's shares it with Carl, who lacks it.
    expect((await maintainKeyring(a.scope)).done).toEqual([])
    expect((await maintainKeyring(b.scope)).done).toEqual(['shared'])
  })
})

describe('whose key is this', () => {
  test('a key change warns every device that pinned the old keys, until accepted', async () => {
    const { a, b, c } = await team()
    await a.ring()
    // Carl loses his device and starts over with new keys; Bob (admin) re-adds him with them.
    const carl2 = await person('carl')
    await addMember(b.scope, { accountId: 'carl', name: 'Carl', keys: publicKeysOf(carl2.keys) })
    sync(a.doc, b.doc, c.doc)
    const ring = await a.ring()
    const carl = ring.members.find((m) => m.accountId === 'carl')!
    expect(carl.keyChange).toEqual({ pinned: expect.stringMatching(/^\d{5} /), now: await safetyCode(carl2.keys) })
    expect(ring.notices.find((n) => n.code === 'KEY_CHANGED')?.message).toMatch(/Carl's keys changed/)
    // The old generation was wrapped to Carl's old key: it must not seal any more.
    expect(ring.notices.map((n) => n.code)).toContain('NEEDS_ROTATION')
    expect(ring.current).toBeUndefined()
    // Ann's device rotates, but wraps nothing to Carl's new keys until she has compared the codes.
    const { done, ring: rotated } = await maintainKeyring(a.scope)
    expect(done).toEqual(['rotated'])
    expect(rotated.current).toBeDefined()
    expect(rotated.members.find((m) => m.accountId === 'carl')!.holdsCurrent).toBe(false)
    const accepted = await acceptKeyChange(a.scope, 'carl')
    expect(accepted.members.find((m) => m.accountId === 'carl')!.keyChange).toBeUndefined()
    expect(accepted.notices.map((n) => n.code)).not.toContain('KEY_CHANGED')
    expect((await maintainKeyring(a.scope)).done).toEqual(['shared'])
    expect((await a.ring()).members.find((m) => m.accountId === 'carl')!.holdsCurrent).toBe(true)
    // A device that never saw the old keys has nothing to warn about.
    const fresh = device(a.scope.me, new Y.Doc())
    sync(a.doc, fresh.doc)
    await fresh.scope.trust!.set(`apisync-trust:root:${WS}`, (await a.scope.trust!.get(`apisync-trust:root:${WS}`))!)
    expect((await fresh.ring()).members.every((m) => !m.keyChange)).toBe(true)
  })

  test("an account restored from a backup made before signing gets a signing key; it announces it; an admin endorses it", async () => {
    const { a, c } = await team()
    const dan = await person('dan')
    const oldKeys = { publicJwk: dan.keys.publicJwk, privateJwk: dan.keys.privateJwk } // ECDH only, as old backups hold
    const oldBackup = await lockAccountKeys(oldKeys, 'dan recovery phrase', 20_000)
    // Ann adds Dan as he was known before signing: by his ECDH key alone.
    await addMember(a.scope, { accountId: 'dan', keys: { enc: oldKeys.publicJwk } })
    const restored = await unlockAccountKeys(oldBackup, 'dan recovery phrase')
    expect(restored.signing).toBeUndefined()
    const { keys, created } = await withSigningKey(restored)
    expect(created).toBe(true)
    const d = device({ accountId: 'dan', keys }, new Y.Doc())
    sync(a.doc, c.doc, d.doc)
    const before = await d.ring()
    expect(before.role).toBe('member')
    expect(before.current).toBeDefined() // reading and sealing need no signing key
    expect(before.notices.map((n) => n.code)).toContain('YOUR_KEYS_DIFFER')
    await refused(rotateKeys(d.scope), 'NOT_ALLOWED')
    const pinnedOnCarl = (await c.ring()).members.find((m) => m.accountId === 'dan')!.safetyCode

    // Dan's device announces; Ann sees the announcement with Dan's new safety code, compares, endorses.
    expect((await maintainKeyring(d.scope)).done).toEqual(['announced'])
    sync(a.doc, c.doc, d.doc)
    const seen = await a.ring()
    expect(seen.announcements).toEqual([{ accountId: 'dan', safetyCode: await safetyCode(keys) }])
    await endorseKeys(a.scope, 'dan')
    sync(a.doc, c.doc, d.doc)
    expect((await d.ring()).notices.map((n) => n.code)).not.toContain('YOUR_KEYS_DIFFER')
    // Everyone who pinned Dan's old (ECDH-only) keys is told: the new signing key is a key change.
    const onCarl = (await c.ring()).members.find((m) => m.accountId === 'dan')!
    expect(onCarl.keyChange).toEqual({ pinned: pinnedOnCarl, now: await safetyCode(keys) })
    // A lone announcement by someone else for Dan's account grants nothing (it must be signed by Dan's new key).
    const mallory = await person('mallory')
    const fake = await craft({ t: 'keys', ws: WS, by: 'dan', at: Date.now(), prev: await headIds(a), keys: publicKeysOf(mallory.keys) as never }, dan.keys.signing)
    putRecord(a.manifest, fake)
    expect(codes(await a.ring())).toEqual(['BAD_SIGNATURE'])
  })

  test("a token's cnf.jkt is checked against the account's signing key", async () => {
    const ann = await person('ann')
    const d = device(ann)
    await initWorkspaceKeys(d.scope)
    const secret = new TextEncoder().encode('x'.repeat(32))
    const token = (cnf?: object) => new SignJWT({ sid: 's', ws: {}, ...(cnf ? { cnf } : {}) }).setProtectedHeader({ alg: 'HS256' }).setSubject('ann').sign(secret)
    const jkt = await thumbprint(ann.keys.signing.publicJwk)
    expect((await unlockKeyring({ ...d.scope, token: await token() })).endorsement).toBe('none')
    expect((await unlockKeyring({ ...d.scope, token: await token({ jkt }) })).endorsement).toBe('endorsed')
    const other = await unlockKeyring({ ...d.scope, token: await token({ jkt: await thumbprint((await generateAccountKeys()).signing.publicJwk) }) })
    expect(other.endorsement).toBe('mismatch')
    expect(other.notices.find((n) => n.code === 'TOKEN_KEY_MISMATCH')?.message).toMatch(/this device holds/)
  })

  test("through the relay's dev sign-in: the account's first key is endorsed, a device holding another key is warned", async () => {
    const r = await relay({ devAuth: true })
    try {
      const devToken = async (body: object) => {
        const res = await fetch(`${r.url}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
        expect(res.status).toBe(200)
        return (await res.json()) as { token: string; sub: string }
      }
      // The account's first device makes the keys and asks for its token with its public signing key.
      const keys = await generateAccountKeys()
      const laptop = await devToken({ name: 'ann', device: 'Laptop', key: keys.signing.publicJwk })
      const ann = { accountId: laptop.sub, name: 'ann', keys }
      const d = device(ann)
      const ring = await initWorkspaceKeys({ ...d.scope, token: laptop.token })
      expect(ring.endorsement).toBe('endorsed')
      expect(ring.notices.map((n) => n.code)).not.toContain('TOKEN_KEY_MISMATCH')
      // Another device of the account made keys of its own (or was given someone else's) and says so: the relay
      // still endorses the account's key, and the keyring opened with the other keys says this device holds the wrong one.
      const other = await generateAccountKeys()
      const phone = await devToken({ name: 'ann', device: 'Phone', key: other.signing.publicJwk })
      const wrong = await unlockKeyring({ ...device({ ...ann, keys: other }, d.doc).scope, token: phone.token })
      expect(wrong.endorsement).toBe('mismatch')
      const notice = wrong.notices.find((n) => n.code === 'TOKEN_KEY_MISMATCH')
      expect(notice?.message).toMatch(/your sign-in says your account's key is .*, but this device holds/)
      expect(notice?.message).toContain((await thumbprint(keys.signing.publicJwk)).slice(0, 12))
      // With the account's real keys (recovered from the backup), the same phone token endorses them.
      expect((await unlockKeyring({ ...d.scope, token: phone.token })).endorsement).toBe('endorsed')
    } finally {
      await r.close()
    }
  })

  test('a second genesis: pinned devices keep theirs, a new device of the owner picks its own, a stranger device refuses to choose', async () => {
    const { a, b, ann, bob } = await team()
    const mallory = await person('mallory')
    // Mallory (or the relay) makes a whole chain of her own in the same workspace, adding Ann and Bob with their real keys.
    const g = await craft({ t: 'genesis', ws: WS, by: 'ann', at: 0, prev: [], name: 'Ann', keys: publicKeysOf(mallory.keys) as never }, mallory.keys.signing)
    const evil = generateDataKey()
    const gen = await craft(
      { t: 'generation', ws: WS, by: 'ann', at: Date.now() + 1e9, prev: [g.id], kid: evil.kid, wraps: { ann: await wrapDataKey(evil, ann.keys.publicJwk), bob: await wrapDataKey(evil, bob.keys.publicJwk) } },
      mallory.keys.signing,
    )
    putRecord(a.manifest, g)
    putRecord(a.manifest, gen, 'keyWraps')
    sync(a.doc, b.doc)
    const ra = await a.ring()
    const rb = await b.ring()
    expect(ra.kids.has(evil.kid) || rb.kids.has(evil.kid)).toBe(false)
    expect(codes(ra)).toEqual(['NOT_IN_CHAIN', 'OTHER_GENESIS'])
    // Ann on a new device: her own genesis is the one signed with her key.
    const annPhone = device(ann, new Y.Doc())
    sync(a.doc, annPhone.doc)
    const rp = await annPhone.ring()
    expect(rp.status).toBe('verified')
    expect(rp.currentKid).toBe(ra.currentKid)
    // Bob on a new device, with nothing pinned: two genesis records by different keys, no way to tell.
    const bobPhone = device(bob, new Y.Doc())
    sync(a.doc, bobPhone.doc)
    const rbp = await bobPhone.ring()
    expect(rbp.status).toBe('ambiguous')
    expect(rbp.current).toBeUndefined()
    expect(rbp.kids.size).toBe(0)
    expect(rbp.notices.map((n) => n.code)).toEqual(['AMBIGUOUS_GENESIS'])
    expect(rbp.geneses.map((g) => g.accountId)).toEqual(['ann', 'ann'])
    // After comparing safety codes with Ann, Bob trusts hers; a code nobody has is refused.
    await refused(trustGenesis(bobPhone.scope, '00000 00000 00000 00000'), 'NOT_ALLOWED')
    await trustGenesis(bobPhone.scope, await safetyCode(ann.keys))
    expect((await bobPhone.ring()).currentKid).toBe(ra.currentKid)
  })
})

describe('workspaces from before signing', () => {
  /** Rows as the unsigned keyring wrote them: members with their ECDH key, one wrap per (kid, member). */
  const unsigned = async () => {
    const ann = await person('ann')
    const carl = await person('carl')
    const a = device(ann)
    const key = generateDataKey()
    a.manifest.transact(() => {
      a.manifest.addRow('members', { accountId: 'ann', name: 'Ann', publicKey: ann.keys.publicJwk as never })
      a.manifest.addRow('members', { accountId: 'carl', name: 'Carl', publicKey: carl.keys.publicJwk as never })
    })
    a.manifest.addRow('keyWraps', { kid: key.kid, createdAt: 1, accountId: 'ann', jwe: await wrapDataKey(key, ann.keys.publicJwk) })
    a.manifest.addRow('keyWraps', { kid: key.kid, createdAt: 1, accountId: 'carl', jwe: await wrapDataKey(key, carl.keys.publicJwk) })
    return { ann, carl, a, key }
  }

  test('unsigned records: values open, nothing new is sealed; the owner re-signs; unsigned rows added later are ignored', async () => {
    const { ann, carl, a, key } = await unsigned()
    const old = await sealedEnv({ current: key } as never, 'old value') // sealed by the old, unsigned keyring
    const c = device(carl, new Y.Doc())
    sync(a.doc, c.doc)
    const rc = await c.ring()
    expect(rc.status).toBe('unsigned')
    expect(rc.current).toBeUndefined()
    expect((await readEnv(old, rc)).value).toBe('old value')
    expect(rc.notices.map((n) => n.code)).toEqual(['UNSIGNED_RECORDS'])

    // Ann's device (the owner, by the host's role) re-signs: a genesis vouching for the old key, Carl re-signed.
    const ra = await resignUnsigned(a.scope)
    expect(ra.status).toBe('verified')
    expect(ra.members.map((m) => [m.accountId, m.role])).toEqual([
      ['ann', 'owner'],
      ['carl', 'member'],
    ])
    sync(a.doc, c.doc)
    const rc2 = await c.ring()
    expect(rc2.status).toBe('verified')
    expect(rc2.currentKid).toBe(ra.currentKid)
    expect((await readEnv(old, rc2)).value).toBe('old value')
    const fresh = await sealedEnv(ra, 'new value')
    expect((await readEnv(fresh, rc2)).value).toBe('new value')

    // Someone adds an unsigned wrap of the old kid for Carl (another key) and an unsigned member row: ignored.
    const fake = { kid: key.kid, key: globalThis.crypto.getRandomValues(new Uint8Array(32)) }
    c.manifest.addRow('keyWraps', { kid: key.kid, createdAt: 9e12, accountId: 'carl', jwe: await wrapDataKey(fake, carl.keys.publicJwk) })
    const later = generateDataKey()
    c.manifest.addRow('keyWraps', { kid: later.kid, createdAt: 9e12, accountId: 'ann', jwe: await wrapDataKey(later, ann.keys.publicJwk) })
    c.manifest.addRow('members', { accountId: 'mallory', name: 'M', publicKey: carl.keys.publicJwk as never })
    sync(a.doc, c.doc)
    const [ra3, rc3] = [await a.ring(), await c.ring()]
    expect(ra3.kids.has(later.kid)).toBe(false)
    expect(ra3.members.map((m) => m.accountId)).toEqual(['ann', 'carl'])
    expect((await readEnv(old, rc3)).value).toBe('old value')
    expect(codes(ra3)).toContain('UNSIGNED')
    expect(rc3.problems.map((p) => p.code)).toContain('WRAP_DOES_NOT_OPEN')
    expect(ra3.current?.kid).toBe(ra.currentKid)
    void ann
  })

  test('only a holder of the old keys can re-sign, and only once', async () => {
    const { a, carl } = await unsigned()
    const stranger = device(await person('zed'), a.doc)
    await refused(resignUnsigned(stranger.scope), 'NOT_ALLOWED')
    await resignUnsigned(a.scope)
    const c = device(carl, new Y.Doc())
    sync(a.doc, c.doc)
    await refused(resignUnsigned(c.scope), 'NOT_VERIFIED')
  })
})

describe('records dropped from the doc', () => {
  test('a removal the relay drops is remembered by devices that saw it, and put back', async () => {
    const { a, b, c } = await team()
    await removeMember(a.scope, 'carl')
    sync(a.doc, b.doc, c.doc)
    expect((await b.ring()).removed).toEqual(['carl'])
    // Every copy of the removal record vanishes from Bob's doc (a Yjs delete of its row, as the relay could send).
    const rows = b.doc.getMap<Y.Map<unknown>>('workspace.members')
    const b2 = device(b.scope.me, new Y.Doc(), WS, b.trust)
    Y.applyUpdate(b2.doc, Y.encodeStateAsUpdate(b.doc))
    b2.doc.transact(() => {
      for (const [id, row] of b2.doc.getMap<Y.Map<unknown>>('workspace.members')) {
        const jws = [...row.entries()].find(([k]) => k.startsWith('jws@'))?.[1] as { v: string } | undefined
        if (jws && JSON.parse(new TextDecoder().decode(base64url.decode(jws.v.split('.')[1]!))).t === 'remove') b2.doc.getMap('workspace.members').delete(id)
      }
    })
    void rows
    const ring = await b2.ring()
    expect(ring.removed).toEqual(['carl'])
    expect(ring.members.map((m) => m.accountId)).toEqual(['ann', 'bob'])
    const { done } = await maintainKeyring(b2.scope)
    expect(done[0]).toBe('republished')
    // A device that never saw it gets it back from the doc.
    const fresh = device(c.scope.me, new Y.Doc())
    Y.applyUpdate(fresh.doc, Y.encodeStateAsUpdate(b2.doc))
    expect((await fresh.ring()).removed).toEqual(['carl'])
  })
})
