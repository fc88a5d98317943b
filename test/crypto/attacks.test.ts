/**
 * Attacks on the keyring through the real relay and its SQLite file (issue #10). In each: the owner (Ann), an
 * admin (Bob) and a member (Carl) sync a workspace through the relay; Mallory was a member and was removed. Then
 * someone attacks: the relay's operator appends key records straight into the relay's SQLite file; Mallory
 * re-adds herself; Carl, an editor of the docs but no admin, starts a key generation; a peer sends forged,
 * altered, replayed and cross-workspace records and junk rows of every field. Afterwards:
 * - no member adopts the attacker's key (every honest device keeps the owner's current generation);
 * - nothing throws;
 * - the owner keeps writing, and every member reads what it writes (and the owner rotates without the attacker);
 * - Mallory cannot read anything written after her removal.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { EnvironmentModel, WorkspaceModel, docName } from '@apisync/model'
import { type RunningRelay, signToken, silentLogger, startRelay } from '@apisync/relay'
import {
  type Keyring,
  type KeyringScope,
  addMember,
  addVariable,
  environmentVariables,
  generateDataKey,
  initWorkspaceKeys,
  memoryTrustStore,
  parseRecord,
  publicKeysOf,
  readVariables,
  removeMember,
  rotateKeys,
  sealedKid,
  setVariableValue,
  unlockKeyring,
  wrapDataKey,
} from '@apisync/crypto'
import { type Person, craft, person } from './helpers.js'

const secret = 'attack-test-secret-0123456789abcdef'
let relay: RunningRelay
let dataDir: string
let people: Record<'ann' | 'bob' | 'carl' | 'mallory', Person>

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'apisync-attacks-'))
  relay = await startRelay({ auth: { secret }, dataDir, port: 0, host: '127.0.0.1', logger: silentLogger })
  people = { ann: await person('ann'), bob: await person('bob'), carl: await person('carl'), mallory: await person('mallory') }
})

afterAll(async () => {
  await relay.close()
  rmSync(dataDir, { recursive: true, force: true })
})

const until = async (check: () => boolean | Promise<boolean>, what: string) => {
  const end = Date.now() + 15_000
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** One person's device: the manifest and an environment, synced through the relay. */
interface Device {
  readonly who: Person
  readonly manifest: Y.Doc
  readonly env: Y.Doc
  readonly scope: () => KeyringScope
  ring(): Promise<Keyring>
  close(): void
}

async function connect(ws: string, who: Person, role: 'owner' | 'editor', names: { manifest: string; env: string }): Promise<Device> {
  const token = await signToken({ sub: who.accountId, sid: `${who.accountId}-${ws}`, ws: { [ws]: role } }, { secret }, { expiresIn: '10m' })
  const manifest = new Y.Doc()
  const env = new Y.Doc()
  const providers = [names.manifest, names.env].map(
    (name, i) =>
      new WebsocketProvider(`${relay.wsUrl}/sync`, name, i === 0 ? manifest : env, {
        params: { token },
        WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
        disableBc: true,
        maxBackoffTime: 200,
      }),
  )
  const trust = memoryTrustStore()
  let model: WorkspaceModel | undefined
  const scope = (): KeyringScope => ({ manifest: (model ??= WorkspaceModel.open(manifest)), workspaceId: ws, me: who, trust })
  return { who, manifest, env, scope, ring: () => unlockKeyring(scope()), close: () => providers.forEach((p) => p.destroy()) }
}

const envModel = (d: Device) => EnvironmentModel.open(d.env)
const read = async (d: Device) => (await readVariables(environmentVariables(envModel(d)), await d.ring()))[0]!
const rowCount = (doc: Y.Doc) => {
  const m = WorkspaceModel.open(doc).snapshot()
  return m.members.length + m.keyWraps.length
}

/**
 * The common stage: Ann owns the workspace, Bob is an admin, Carl a member, Mallory was a member and is removed.
 * `v1` was written before Mallory's removal, `v2` after it.
 */
async function stage() {
  const ws = `w${crypto.randomUUID().slice(0, 8)}`
  const names = { manifest: docName({ workspaceId: ws, kind: 'manifest' }), env: docName({ workspaceId: ws, kind: 'environment', id: 'env1' }) }
  const ann = await connect(ws, people.ann, 'owner', names)
  WorkspaceModel.create(ann.manifest, { id: ws, name: 'Team' })
  await initWorkspaceKeys(ann.scope())
  for (const [p, role] of [
    [people.bob, 'admin'],
    [people.carl, 'member'],
    [people.mallory, 'member'],
  ] as const)
    await addMember(ann.scope(), { accountId: p.accountId, name: p.accountId, keys: publicKeysOf(p.keys) }, role)
  const env = EnvironmentModel.create(ann.env, { id: 'env1', name: 'Prod' })
  const row = await addVariable(environmentVariables(env), await ann.ring(), { key: 'token', value: 'v1-before-removal' })
  const bob = await connect(ws, people.bob, 'editor', names)
  const carl = await connect(ws, people.carl, 'editor', names)
  // Mallory's write grant is still valid: the host has not caught up with her removal.
  const mallory = await connect(ws, people.mallory, 'editor', names)
  const all = [ann, bob, carl, mallory]
  const synced = () => all.every((d) => rowCount(d.manifest) === rowCount(ann.manifest) && envModel(d).snapshot().variables.length === 1)
  await until(synced, 'everyone synced')
  expect((await read(mallory)).value).toBe('v1-before-removal')

  await removeMember(ann.scope(), 'mallory')
  await setVariableValue(environmentVariables(env), await ann.ring(), row, 'v2-after-removal')
  const sameValue = () => all.every((d) => envModel(d).snapshot().variables[0]?.value === env.snapshot().variables[0]!.value)
  await until(() => synced() && sameValue(), 'the removal and v2 everywhere')
  // Each device has opened the workspace's keyring before: it pinned the genesis and the members' keys.
  for (const d of all) expect((await d.ring()).status).toBe('verified')
  const before = await ann.ring()
  return { ws, names, ann, bob, carl, mallory, all, env, row, before, synced, sameValue }
}

/** What must hold after any attack. */
async function holds(s: Awaited<ReturnType<typeof stage>>, evilKids: readonly string[]) {
  const { ann, bob, carl, mallory, env, row, before } = s
  await until(s.synced, 'the attack everywhere')
  // Nobody adopts the attacker's key; every honest device agrees on the owner's current generation.
  for (const d of [ann, bob, carl]) {
    const ring = await d.ring() // never throws
    expect(ring.status).toBe('verified')
    expect(ring.currentKid).toBe(before.currentKid)
    for (const kid of evilKids) expect(ring.kids.has(kid)).toBe(false)
    expect(ring.members.map((m) => m.accountId).sort()).toEqual(['ann', 'bob', 'carl'])
  }
  // The owner keeps writing; every member reads it, and a member's own write seals under the same generation.
  await setVariableValue(environmentVariables(env), await ann.ring(), row, 'v3-after-attack')
  await until(s.sameValue, 'v3 everywhere')
  for (const d of [ann, bob, carl]) expect(await read(d)).toMatchObject({ value: 'v3-after-attack', state: 'open' })
  await setVariableValue(environmentVariables(envModel(carl)), await carl.ring(), row, 'v4-by-carl')
  expect(sealedKid(envModel(carl).snapshot().variables[0]!.value)).toBe(before.currentKid)
  await until(s.sameValue, 'v4 everywhere')
  expect((await read(ann)).value).toBe('v4-by-carl')
  // Mallory reads nothing written after her removal.
  expect(await read(mallory)).toMatchObject({ state: 'locked', value: null })
  // The owner's next rotation leaves the attacker out, and Mallory stays locked out of it.
  const rotated = await rotateKeys(ann.scope())
  await until(async () => (await bob.ring()).currentKid === rotated.currentKid && (await carl.ring()).currentKid === rotated.currentKid, 'the rotation')
  await until(async () => (await mallory.ring()).kids.size > 0 || rowCount(mallory.manifest) === rowCount(ann.manifest), 'the rotation at Mallory')
  expect((await mallory.ring()).kids.has(rotated.currentKid!)).toBe(false)
  await setVariableValue(environmentVariables(env), rotated, row, 'v5-rotated')
  await until(s.sameValue, 'v5 everywhere')
  expect((await read(carl)).value).toBe('v5-rotated')
  expect((await read(mallory)).state).toBe('locked')
  for (const d of s.all) d.close()
}

/** The Yjs update that appends rows to a copy of a manifest, as anyone who can write it (or its storage) makes it. */
const appendRows = (state: Uint8Array, write: (m: WorkspaceModel) => void): Uint8Array => {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, state)
  const before = Y.encodeStateVector(doc)
  write(WorkspaceModel.open(doc))
  return Y.encodeStateAsUpdate(doc, before)
}

/** Every valid record's id in a manifest (what an honest author names as `prev`). */
const heads = async (doc: Y.Doc) => {
  const m = WorkspaceModel.open(doc).snapshot()
  const all = await Promise.all([...m.members, ...m.keyWraps].filter((r) => r.jws).map((r) => parseRecord(r.jws)))
  const seen = new Set(all.flatMap((r) => r.payload.prev))
  return all.filter((r) => !seen.has(r.id)).map((r) => r.id)
}

describe('attacks on the keyring, through the real relay', () => {
  test("the relay's operator appends key records straight into its SQLite file", async () => {
    const s = await stage()
    const { ann, bob, mallory } = s
    const evil = generateDataKey()
    const operator = await person('operator') // keys of its own; no account at all
    const wraps = {
      ann: await wrapDataKey(evil, people.ann.keys.publicJwk),
      bob: await wrapDataKey(evil, people.bob.keys.publicJwk),
      carl: await wrapDataKey(evil, people.carl.keys.publicJwk),
      mallory: await wrapDataKey(evil, people.mallory.keys.publicJwk),
    }
    const h = await heads(ann.manifest)
    const forgedGen = await craft({ t: 'generation', ws: s.ws, by: 'ann', at: Date.now() + 1e9, prev: h, kid: evil.kid, wraps }, operator.keys.signing)
    const fakeGenesis = await craft({ t: 'genesis', ws: s.ws, by: 'ann', at: 0, prev: [], name: 'Ann', keys: publicKeysOf(operator.keys) as never }, operator.keys.signing)
    const fakeChainGen = await craft({ t: 'generation', ws: s.ws, by: 'ann', at: Date.now() + 2e9, prev: [fakeGenesis.id], kid: `${evil.kid}x`, wraps }, operator.keys.signing)

    await relay.close() // the operator stops the relay, edits its database, starts it again
    const db = new Database(join(dataDir, 'apisync.sqlite'))
    const stored = [
      ...(db.prepare('SELECT snapshot AS data FROM doc_snapshots WHERE doc = ?').all(s.names.manifest) as { data: Buffer }[]),
      ...(db.prepare('SELECT data FROM doc_updates WHERE doc = ? ORDER BY seq').all(s.names.manifest) as { data: Buffer }[]),
    ]
    expect(stored.length).toBeGreaterThan(0)
    const state = Y.mergeUpdates(stored.map((r) => new Uint8Array(r.data)))
    const update = appendRows(state, (m) => {
      // The old way in: an unsigned wrap addressed to every member, "newer" than anything.
      for (const [accountId, jwe] of Object.entries(wraps)) m.addRow('keyWraps', { kid: evil.kid, createdAt: Date.now() + 1e12, accountId, jwe })
      m.addRow('members', { accountId: 'mallory', name: 'Mallory', publicKey: people.mallory.keys.publicJwk as never })
      m.addRow('keyWraps', { kid: evil.kid, createdAt: Date.now() + 1e12, accountId: 'ann', jwe: '', jws: forgedGen.jws })
      m.addRow('members', { accountId: 'ann', name: 'Ann', publicKey: null, jws: fakeGenesis.jws })
      m.addRow('keyWraps', { kid: `${evil.kid}x`, createdAt: Date.now() + 1e12, accountId: 'ann', jwe: '', jws: fakeChainGen.jws })
    })
    // As the relay would log it: the doc's next sequence number, attributed to nobody.
    const { head } = db.prepare('SELECT MAX(n) AS head FROM (SELECT MAX(doc_seq) AS n FROM doc_updates WHERE doc = ? UNION ALL SELECT seq AS n FROM doc_snapshots WHERE doc = ?)').get(s.names.manifest, s.names.manifest) as { head: number | null }
    db.prepare('INSERT INTO doc_updates (doc, data, doc_seq, committed_at) VALUES (?, ?, ?, ?)').run(s.names.manifest, Buffer.from(update), (head ?? 0) + 1, Date.now())
    db.close()
    relay = await startRelay({ auth: { secret }, dataDir, port: relay.port, host: '127.0.0.1', logger: silentLogger })

    await until(() => WorkspaceModel.open(bob.manifest).snapshot().keyWraps.some((w) => w.jws === fakeChainGen.jws), 'the injected rows at Bob')
    await until(() => WorkspaceModel.open(ann.manifest).snapshot().keyWraps.some((w) => w.jws === fakeChainGen.jws), 'the injected rows at Ann')
    const ring = await bob.ring()
    expect(ring.problems.map((p) => p.code).sort()).toEqual(['BAD_SIGNATURE', 'NOT_IN_CHAIN', 'OTHER_GENESIS', 'UNSIGNED', 'UNSIGNED', 'UNSIGNED', 'UNSIGNED', 'UNSIGNED'])
    // Mallory's device adopts nothing from it either.
    expect((await mallory.ring()).kids.has(evil.kid)).toBe(false)
    await holds(s, [evil.kid, `${evil.kid}x`])
  })

  test('a removed member re-adds herself, and wraps keys for herself', async () => {
    const s = await stage()
    const { mallory, ann } = s
    const m = WorkspaceModel.open(mallory.manifest)
    const h = await heads(mallory.manifest)
    const mk = people.mallory.keys
    const readd = await craft({ t: 'member', ws: s.ws, by: 'mallory', at: Date.now(), prev: h, sub: 'mallory', name: 'Mallory', role: 'admin', keys: publicKeysOf(mk) }, mk.signing)
    const evil = generateDataKey()
    const gen = await craft(
      { t: 'generation', ws: s.ws, by: 'mallory', at: Date.now() + 1e9, prev: [readd.id], kid: evil.kid, wraps: { ann: await wrapDataKey(evil, people.ann.keys.publicJwk), mallory: await wrapDataKey(evil, mk.publicJwk) } },
      mk.signing,
    )
    // She also replays the record that once added her, and asks to be shared the current key.
    const original = ann.scope().manifest.snapshot().members.find((r) => r.accountId === 'mallory' && r.jws)!.jws
    const current = (await ann.ring()).current!
    const share = await craft({ t: 'share', ws: s.ws, by: 'mallory', at: Date.now(), prev: [readd.id], sub: 'mallory', wraps: { [current.kid]: await wrapDataKey(current, mk.publicJwk) } }, mk.signing)
    m.transact(() => {
      m.addRow('members', { accountId: 'mallory', name: 'Mallory', publicKey: mk.publicJwk as never, jws: readd.jws })
      m.addRow('members', { accountId: 'mallory', name: 'Mallory', publicKey: mk.publicJwk as never, jws: original })
      m.addRow('members', { accountId: 'mallory', name: 'Mallory', publicKey: mk.publicJwk as never }) // the unsigned way back in
      m.addRow('keyWraps', { kid: evil.kid, createdAt: Date.now() + 1e9, accountId: 'ann', jwe: '', jws: gen.jws })
      m.addRow('keyWraps', { kid: '', createdAt: Date.now(), accountId: 'mallory', jwe: '', jws: share.jws })
    })
    await until(() => WorkspaceModel.open(ann.manifest).snapshot().keyWraps.some((w) => w.jws === share.jws), 'her rows at Ann')
    const ring = await ann.ring()
    expect(ring.removed).toEqual(['mallory'])
    expect(ring.problems.map((p) => p.code).sort()).toEqual(['UNAUTHORIZED', 'UNAUTHORIZED', 'UNAUTHORIZED', 'UNSIGNED'])
    await holds(s, [evil.kid])
  })

  test('an editor who is not an admin starts a key generation', async () => {
    const s = await stage()
    const { carl, ann } = s
    const evil = generateDataKey()
    const ck = people.carl.keys
    const gen = await craft(
      {
        t: 'generation',
        ws: s.ws,
        by: 'carl',
        at: Date.now() + 1e9,
        prev: await heads(carl.manifest),
        kid: evil.kid,
        wraps: { ann: await wrapDataKey(evil, people.ann.keys.publicJwk), bob: await wrapDataKey(evil, people.bob.keys.publicJwk), carl: await wrapDataKey(evil, ck.publicJwk) },
      },
      ck.signing,
    )
    WorkspaceModel.open(carl.manifest).addRow('keyWraps', { kid: evil.kid, createdAt: Date.now() + 1e9, accountId: 'carl', jwe: '', jws: gen.jws })
    await until(() => WorkspaceModel.open(ann.manifest).snapshot().keyWraps.some((w) => w.jws === gen.jws), 'the generation at Ann')
    expect((await ann.ring()).problems).toEqual([expect.objectContaining({ code: 'UNAUTHORIZED', reason: 'carl is not an admin: only admins start key generations' })])
    // Carl's own device does not adopt it either: he is not an admin by the chain.
    expect((await carl.ring()).kids.has(evil.kid)).toBe(false)
    await holds(s, [evil.kid])
  })

  test('a peer sends forged, altered, replayed and cross-workspace records and junk rows of every field', async () => {
    const s = await stage()
    const { carl, ann } = s
    const evil = generateDataKey()
    const mk = people.mallory.keys
    const h = await heads(carl.manifest)
    const forged = await craft({ t: 'generation', ws: s.ws, by: 'ann', at: Date.now() + 1e9, prev: h, kid: evil.kid, wraps: { ann: await wrapDataKey(evil, people.ann.keys.publicJwk) } }, mk.signing)
    const real = WorkspaceModel.open(carl.manifest).snapshot().keyWraps.find((w) => w.jws)!.jws
    const [hd, , sig] = real.split('.')
    const altered = `${hd}.${Buffer.from(JSON.stringify({ ...(await parseRecord(real)).payload, at: Date.now() + 1e10 })).toString('base64url')}.${sig}`
    const other = new Y.Doc()
    const otherManifest = WorkspaceModel.create(other, { id: 'elsewhere' })
    await initWorkspaceKeys({ manifest: otherManifest, workspaceId: 'elsewhere', me: people.ann, trust: memoryTrustStore() })
    const crossWorkspace = otherManifest.snapshot().keyWraps.find((w) => w.jws)!.jws
    const replayed = WorkspaceModel.open(carl.manifest).snapshot().members.find((r) => r.accountId === 'mallory' && r.jws)!.jws
    const m = WorkspaceModel.open(carl.manifest)
    m.transact(() => {
      m.addRow('keyWraps', { kid: evil.kid, createdAt: Date.now() + 1e9, accountId: 'ann', jwe: '', jws: forged.jws })
      m.addRow('keyWraps', { kid: '', createdAt: 0, accountId: 'ann', jwe: '', jws: altered })
      m.addRow('keyWraps', { kid: '', createdAt: 0, accountId: 'ann', jwe: '', jws: crossWorkspace })
      m.addRow('members', { accountId: 'mallory', name: '', publicKey: null, jws: replayed })
      m.addRow('keyWraps', { kid: 'x', createdAt: Date.now() + 1e12, accountId: 'ann', jwe: 'a.b.c.d.e' })
      m.addRow('members', { accountId: 'ann', name: '', publicKey: { kty: 'EC', crv: 'P-256', x: 'junk', y: 'junk' }, jws: 'a.b.c' })
    })
    // Junk below the model: wrong types in every field, entries that are not registers, rows that are not maps.
    carl.manifest.transact(() => {
      const junk: unknown[] = [null, 7, false, 'a.b.c.d.e', { v: 1 }, ['x'], 'eyJ9.e30.AA']
      for (const [list, fields] of [
        ['workspace.members', ['accountId', 'name', 'publicKey', 'jws', 'extra', 'position', 'deleted']],
        ['workspace.keyWraps', ['kid', 'createdAt', 'accountId', 'jwe', 'jws', 'extra', 'position', 'deleted']],
      ] as const) {
        const map = carl.manifest.getMap<unknown>(list)
        junk.forEach((value, i) => {
          const row = new Y.Map<unknown>()
          map.set(`junk-${i}`, row)
          row.set('id', `junk-${i}`)
          for (const f of fields) row.set(`${f}@42`, { v: value, n: 1 })
          row.set('jws@43', value)
        })
        map.set('scalar', 'not a row')
      }
    })
    await until(() => WorkspaceModel.open(ann.manifest).snapshot().keyWraps.some((w) => w.jws === crossWorkspace), 'the junk at Ann')
    const codes = new Set((await ann.ring()).problems.map((p) => p.code))
    expect(codes).toEqual(new Set(['BAD_SIGNATURE', 'OTHER_WORKSPACE', 'MALFORMED', 'UNSIGNED']))
    await holds(s, [evil.kid])
  })
})
