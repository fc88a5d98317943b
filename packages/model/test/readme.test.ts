/** The README's example runs as written and says what it claims. */
import { readFile, rm, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { afterAll, expect, test, vi } from 'vitest'

const file = fileURLToPath(new URL('./readme-example.generated.ts', import.meta.url))
const historyFile = fileURLToPath(new URL('./readme-history.generated.ts', import.meta.url))
afterAll(() => Promise.all([rm(file, { force: true }), rm(historyFile, { force: true })]))

test('packages/model/README.md: the example', async () => {
  const readme = await readFile(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8')
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1]
  expect(code).toBeDefined()
  await writeFile(file, code!)
  const log = vi.spyOn(console, 'log').mockImplementation(() => {})
  try {
    await import(/* @vite-ignore */ file)
    const printed = log.mock.calls.map((c) => c.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' '))
    // The winner (alternative 0) depends on the docs' random client ids; both are whole URLs with bob's query.
    const [field, list] = [printed[0]!.slice(0, 4), JSON.parse(printed[0]!.slice(4)) as string[]]
    expect(field).toBe('url ')
    expect([...list].sort()).toEqual(['ann on Desktop: {{base}}/v2/login?v=3', 'bob on Laptop: {{base}}/auth/login?v=3'])
    expect(printed[1]).toContain(`"raw":"${list[0]!.split(': ')[1]}"`)
  } finally {
    log.mockRestore()
  }
})

test('packages/model/README.md: the history example', async () => {
  const readme = await readFile(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8')
  const code = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).find((c) => c.includes('diffDocs'))
  expect(code).toBeDefined()
  await writeFile(historyFile, code!)
  const log = vi.spyOn(console, 'log').mockImplementation(() => {})
  try {
    await import(/* @vite-ignore */ historyFile)
    const printed = log.mock.calls.map((c) => c.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' '))
    expect(printed).toEqual([
      '1 request added, 1 request changed',
      'changed request Login Auth method POST PUT',
      'added request Logout Auth   ',
      '["Login"]',
      'no changes',
    ])
  } finally {
    log.mockRestore()
  }
})
