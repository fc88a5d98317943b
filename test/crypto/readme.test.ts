/** The README's example runs as written. */
import { readFile, rm, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { afterAll, expect, test, vi } from 'vitest'

const file = fileURLToPath(new URL('./readme-example.generated.ts', import.meta.url))
afterAll(() => rm(file, { force: true }))

test('packages/crypto/README.md: the example', async () => {
  const readme = await readFile(fileURLToPath(new URL('../../packages/crypto/README.md', import.meta.url)), 'utf8')
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1]
  expect(code).toBeDefined()
  await writeFile(file, code!)
  const log = vi.spyOn(console, 'log').mockImplementation(() => {})
  try {
    await import(/* @vite-ignore */ file)
    const printed = log.mock.calls.map((c) => String(c[0]))
    expect(printed[0]).toMatch(/^eyJ[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+$/)
    expect(printed.slice(1)).toEqual(['s3cr3t', 'true', 'locked'])
  } finally {
    log.mockRestore()
  }
})
