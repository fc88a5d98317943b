/**
 * Encryption benchmark (issues #5 and #10): 1,000 variables encrypted and written, then read and decrypted, vs
 * the same values written and read in clear, in the same run; opening a big signed keyring; and importing the
 * largest corpus collection with its secret variables sealed vs not.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as Y from 'yjs'
import { EnvironmentModel, WorkspaceModel } from '@apisync/model'
import { importCollection } from '@apisync/postman'
import {
  addMember,
  addVariable,
  environmentVariables,
  forgetKeyringCaches,
  generateAccountKeys,
  initWorkspaceKeys,
  memoryTrustStore,
  publicKeysOf,
  readVariables,
  rotateKeys,
  sealerFor,
  unlockKeyring,
} from '@apisync/crypto'

const N = Number(process.env.APISYNC_BENCH_VARIABLES ?? 1000)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const me = { accountId: 'bench', keys: await generateAccountKeys() }
const ring = await initWorkspaceKeys({ manifest: WorkspaceModel.create(new Y.Doc()), workspaceId: 'bench', me })
const values = Array.from({ length: N }, (_, i) => `value-${i}-${'x'.repeat(24)}`)

const plain = async () => {
  const env = EnvironmentModel.create(new Y.Doc())
  const t0 = performance.now()
  for (let i = 0; i < N; i++) env.addRow('variables', { key: `var${i}`, value: values[i]! })
  const t1 = performance.now()
  const read = env.snapshot().variables.map((v) => v.value)
  const t2 = performance.now()
  if (read.length !== N) throw new Error('lost variables')
  return { write: t1 - t0, read: t2 - t1 }
}

const sealed = async () => {
  const env = EnvironmentModel.create(new Y.Doc())
  const list = environmentVariables(env)
  const t0 = performance.now()
  for (let i = 0; i < N; i++) await addVariable(list, ring, { key: `var${i}`, value: values[i]! })
  const t1 = performance.now()
  const read = await readVariables(list, ring)
  const t2 = performance.now()
  if (read.some((v, i) => v.value !== values[i])) throw new Error('decryption mismatch')
  return { write: t1 - t0, read: t2 - t1 }
}

await plain()
await sealed()
const p = [await plain(), await plain(), await plain()]
const s = [await sealed(), await sealed(), await sealed()]
const pw = median(p.map((x) => x.write))
const pr = median(p.map((x) => x.read))
const sw = median(s.map((x) => x.write))
const sr = median(s.map((x) => x.read))
console.log(`\n== crypto: ${N} variables, JWE dir + A256GCM per value`)
console.log(`encrypt + write: ${sw.toFixed(1)} ms (${((sw / N) * 1000).toFixed(0)} µs/var) | plaintext write ${pw.toFixed(1)} ms | ratio ${(sw / pw).toFixed(2)}×`)
console.log(`read + decrypt:  ${sr.toFixed(1)} ms (${((sr / N) * 1000).toFixed(0)} µs/var) | plaintext read ${pr.toFixed(1)} ms | ratio ${(sr / pr).toFixed(2)}×`)

// ------------------------------------------------------------------------------ the signed keyring (issue #10)

/**
 * Opening the keyring of a workspace with 50 members and 20 key generations (goal: ≤ 50 ms): every record
 * parsed and its signature verified, the chain evaluated, and this account's wraps unwrapped. Cold = nothing
 * cached in the process (a fresh page); warm = the same keyring opened again (on every manifest change).
 */
const MEMBERS = Number(process.env.APISYNC_BENCH_MEMBERS ?? 50)
const GENERATIONS = Number(process.env.APISYNC_BENCH_GENERATIONS ?? 20)
{
  const owner = { accountId: 'owner', name: 'Owner', keys: await generateAccountKeys() }
  const others = await Promise.all(Array.from({ length: MEMBERS - 1 }, async (_, i) => ({ accountId: `member${i}`, name: `Member ${i}`, keys: await generateAccountKeys() })))
  const manifest = WorkspaceModel.create(new Y.Doc(), { id: 'big' })
  const scope = { manifest, workspaceId: 'big', me: owner, trust: memoryTrustStore() }
  const t0 = performance.now()
  await initWorkspaceKeys(scope)
  // Members join over time, and a generation starts every few joins (as removals and rotations would).
  const every = Math.ceil((MEMBERS - 1) / (GENERATIONS - 1))
  let generations = 1
  for (const [i, m] of others.entries()) {
    await addMember(scope, { accountId: m.accountId, name: m.name, keys: publicKeysOf(m.keys) }, i % 10 === 0 ? 'admin' : 'member')
    if ((i + 1) % every === 0 && generations < GENERATIONS) {
      await rotateKeys(scope)
      generations++
    }
  }
  while (generations < GENERATIONS) {
    await rotateKeys(scope)
    generations++
  }
  const built = performance.now() - t0
  const snap = manifest.snapshot()
  const size = Y.encodeStateAsUpdate(manifest.doc).length
  const early = others[0]!
  type Scope = typeof scope
  /** One open; `fresh`: a device that never saw the workspace (no pins, nothing verified before). */
  const open = async (me: Scope['me'], trust: Scope['trust'], cold: boolean) => {
    if (cold) forgetKeyringCaches()
    const t = performance.now()
    const ring = await unlockKeyring({ manifest, workspaceId: 'big', me, trust })
    const ms = performance.now() - t
    if (ring.members.length !== MEMBERS || !ring.current || ring.problems.length) throw new Error('the keyring did not open as built')
    return { ms, kids: ring.kids.size }
  }
  const series = async (me: Scope['me'], kind: 'first' | 'reload' | 'warm') => {
    const xs: number[] = []
    let kids = 0
    const device = memoryTrustStore()
    await open(me, device, true)
    for (let i = 0; i < 7; i++) {
      const r = await open(me, kind === 'first' ? memoryTrustStore() : device, kind !== 'warm')
      xs.push(r.ms)
      kids = r.kids
    }
    return { ms: median(xs), kids }
  }
  console.log(`\n== crypto: keyring of ${MEMBERS} members, ${GENERATIONS} generations (${snap.members.length + snap.keyWraps.length} signed records, manifest ${(size / 1024).toFixed(0)} KiB, built in ${(built / 1000).toFixed(1)} s), median of 7`)
  for (const [label, me] of [
    ['owner', owner],
    ['early member', early],
  ] as const) {
    const first = await series(me, 'first')
    const reload = await series(me, 'reload')
    const warm = await series(me, 'warm')
    console.log(
      `${label} (${first.kids} generations held): first open on a device ${first.ms.toFixed(1)} ms | reload (pins and verified records kept) ${reload.ms.toFixed(1)} ms | reopen ${warm.ms.toFixed(1)} ms | goal ≤ 50 ms`,
    )
  }
}

/**
 * Importing the largest corpus collection with its secret variables sealed, vs the same import unsealed. The
 * corpus file has one collection variable; a second variant makes it and one variable per folder secret.
 */
{
  const dir = fileURLToPath(new URL('../test/fixtures/postman/', import.meta.url))
  const largest = readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.includes('environment') && !f.includes('globals') && !f.includes('report'))
    .map((f) => ({ f, size: statSync(join(dir, f)).size }))
    .sort((a, b) => b.size - a.size)[0]!
  const text = readFileSync(join(dir, largest.f), 'utf8').replace(/^\uFEFF/, '')
  const json = JSON.parse(text) as { variable?: { key: string; value: unknown; type?: string }[]; item?: unknown[] }
  const allSecret = structuredClone(json)
  allSecret.variable = (allSecret.variable ?? []).map((v) => ({ ...v, type: 'secret' }))
  let folders = 0
  const walk = (items: unknown[] | undefined) => {
    for (const item of items ?? []) {
      const it = item as { item?: unknown[]; variable?: unknown[] }
      if (!it.item) continue
      folders++
      it.variable = [...(it.variable ?? []), { key: 'folderSecret', value: `secret of folder ${folders}`, type: 'secret' }]
      walk(it.item)
    }
  }
  walk(allSecret.item)
  const seal = sealerFor(ring)
  /** Median of `runs` interleaved runs of a and b (the machine's load falls on both alike). */
  const pair = async (a: () => unknown, b: () => unknown, runs = 7) => {
    const xs: number[] = []
    const ys: number[] = []
    for (let i = 0; i < runs; i++) {
      let t = performance.now()
      await a()
      xs.push(performance.now() - t)
      t = performance.now()
      await b()
      ys.push(performance.now() - t)
    }
    return [median(xs), median(ys)] as const
  }
  const [plainMs, sealedMs] = await pair(
    () => importCollection(json),
    () => importCollection(json, { seal }),
  )
  const secrets = (allSecret.variable?.length ?? 0) + folders
  const [plainAll, sealedAll] = await pair(
    () => importCollection(allSecret),
    () => importCollection(allSecret, { seal }),
  )
  const sealOnly = (
    await pair(
      () => undefined,
      () => Promise.all(Array.from({ length: secrets }, (_, i) => seal(`secret ${i}`, { docKind: 'collection', docId: 'c', ownerId: `f${i}`, rowId: '0' }))),
    )
  )[1]
  console.log(`\n== crypto: importing ${largest.f} (${(largest.size / 1e6).toFixed(1)} MB), secret variables sealed vs not`)
  console.log(`as in the corpus (${json.variable?.length ?? 0} collection variable, ${json.variable?.filter((v) => v.type === 'secret').length ?? 0} secret): with seal ${sealedMs.toFixed(0)} ms | without ${plainMs.toFixed(0)} ms | ratio ${(sealedMs / plainMs).toFixed(2)}×`)
  console.log(`its variable and one per folder made secret (${secrets}): sealed ${sealedAll.toFixed(0)} ms | unsealed ${plainAll.toFixed(0)} ms | ratio ${(sealedAll / plainAll).toFixed(2)}× | the ${secrets} seals alone ${sealOnly.toFixed(1)} ms (${((sealOnly / secrets) * 1000).toFixed(0)} µs each)`)
}
