/** The README's example runs as written, against a dev relay on a random port. */
import { readFile, rm, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { afterAll, expect, test, vi } from 'vitest'
import { relay } from './helpers.js'

const file = fileURLToPath(new URL('./readme-example.generated.ts', import.meta.url))
afterAll(() => rm(file, { force: true }))

test('packages/client/README.md: the ten-minute tour', async () => {
  const readme = await readFile(fileURLToPath(new URL('../../packages/client/README.md', import.meta.url)), 'utf8')
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1]
  expect(code).toBeDefined()
  await writeFile(file, code!)
  const r = await relay({ devAuth: true })
  const log = vi.spyOn(console, 'log').mockImplementation(() => {})
  try {
    process.env.RELAY_URL = r.url
    await import(/* @vite-ignore */ file)
    const printed = log.mock.calls.map((c) => c.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' '))
    expect(printed.some((p) => p.includes('"value":"http://localhost:3000"') && p.includes('"local":true'))).toBe(true)
    expect(printed.some((p) => p.includes('"state":"in-sync"') && p.includes('"pending":0'))).toBe(true)
    expect(printed).toContain('List users')
    expect(printed).toContain('account: in-sync')
  } finally {
    log.mockRestore()
    delete process.env.RELAY_URL
    await r.close()
  }
})
