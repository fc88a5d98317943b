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
  const memberScope = { manifest, workspaceId: 'big', me: early, trust: memoryTrustStore() }
  const open = async (s: typeof scope | typeof memberScope, cold: boolean) => {
    if (cold) forgetKeyringCaches()
    const t = performance.now()
    const ring = await unlockKeyring(s)
    const ms = performance.now() - t
    if (ring.members.length !== MEMBERS || !ring.current || ring.problems.length) throw new Error('the keyring did not open as built')
    return { ms, keys: ring.kids.size }
  }
  const runs = async (s: typeof scope | typeof memberScope, cold: boolean) => {
    const xs: number[] = []
    let keys = 0
    for (let i = 0; i < 7; i++) {
      const r = await open(s, cold)
      xs.push(r.ms)
      keys = r.keys
    }
    return { ms: median(xs), keys }
  }
  const ownerCold = await runs(scope, true)
  const ownerWarm = await runs(scope, false)
  const memberCold = await runs(memberScope, true)
  const memberWarm = await runs(memberScope, false)
  console.log(`\n== crypto: keyring of ${MEMBERS} members, ${GENERATIONS} generations (${snap.members.length + snap.keyWraps.length} signed records, manifest ${(size / 1024).toFixed(0)} KiB, built in ${(built / 1000).toFixed(1)} s)`)
  console.log(`open, cold: owner ${ownerCold.ms.toFixed(1)} ms (${ownerCold.keys} keys) | early member ${memberCold.ms.toFixed(1)} ms (${memberCold.keys} keys) | goal ≤ 50 ms`)
  console.log(`open, warm: owner ${ownerWarm.ms.toFixed(1)} ms | early member ${memberWarm.ms.toFixed(1)} ms`)
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
  const time = async (f: () => unknown) => {
    const xs: number[] = []
    for (let i = 0; i < 5; i++) {
      const t = performance.now()
      await f()
      xs.push(performance.now() - t)
    }
    return median(xs)
  }
  const plainMs = await time(() => importCollection(json))
  const sealedMs = await time(() => importCollection(json, { seal }))
  const secrets = (allSecret.variable?.length ?? 0) + folders
  const plainAll = await time(() => importCollection(allSecret))
  const sealedAll = await time(() => importCollection(allSecret, { seal }))
  console.log(`\n== crypto: importing ${largest.f} (${(largest.size / 1e6).toFixed(1)} MB), secret variables sealed vs not`)
  console.log(`as in the corpus (${json.variable?.length ?? 0} variable, made secret: ${json.variable?.filter((v) => v.type === 'secret').length ?? 0}): sealed ${sealedMs.toFixed(0)} ms | unsealed ${plainMs.toFixed(0)} ms | ratio ${(sealedMs / plainMs).toFixed(2)}×`)
  console.log(`with ${secrets} secret variables (the collection's and one per folder): sealed ${sealedAll.toFixed(0)} ms | unsealed ${plainAll.toFixed(0)} ms | ratio ${(sealedAll / plainAll).toFixed(2)}× (+${(((sealedAll - plainAll) / secrets) * 1000).toFixed(0)} µs per secret)`)
}
