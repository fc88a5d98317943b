/**
 * Run the benchmarks: every bench/*.ts file other than this one, in name order, or only those
 * named on the command line (`tsx run-all.ts relay model`). Each runs in a process of its own;
 * the exit code is non-zero if any of them failed.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { basename } from 'node:path'
import { fileURLToPath } from 'node:url'

const benchDir = fileURLToPath(new URL('.', import.meta.url))
const self = basename(fileURLToPath(import.meta.url))
const available = readdirSync(benchDir)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && f !== self)
  .sort()

const wanted = process.argv.slice(2).map((name) => (name.endsWith('.ts') ? name : `${name}.ts`))
const unknown = wanted.filter((f) => !available.includes(f))
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${available.join(', ')}`)
  process.exit(2)
}
const files = wanted.length > 0 ? wanted : available

const failed: string[] = []
for (const file of files) {
  console.log(`\n=== ${file} ===`)
  const started = Date.now()
  const { status, signal } = spawnSync(process.execPath, ['--import', 'tsx', file], {
    cwd: benchDir,
    stdio: 'inherit',
    env: { ...process.env, TSX_TSCONFIG_PATH: fileURLToPath(new URL('tsconfig.json', import.meta.url)) },
  })
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  if (status !== 0) failed.push(`${file} (${signal ?? `exit ${status}`})`)
  console.log(`=== ${file}: ${status === 0 ? 'done' : 'FAILED'} in ${seconds} s ===`)
}
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(', ')}`)
  process.exit(1)
}
