/**
 * Encryption benchmark (issue #5): 1,000 variables encrypted and written, then read and decrypted, vs the
 * same values written and read in clear, in the same run.
 */
import * as Y from 'yjs'
import { EnvironmentModel, WorkspaceModel } from '@apisync/model'
import { addVariable, environmentVariables, generateAccountKeys, initWorkspaceKeys, readVariables } from '@apisync/crypto'

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
