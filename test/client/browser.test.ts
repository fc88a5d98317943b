/**
 * The client in Chromium (playwright-core): edits land in the browser's real IndexedDB, survive a page
 * reload while the relay is down, follow the browser's offline/online events, then sync when it is back.
 * Skips (loudly) without /usr/bin/chromium, unless APISYNC_REQUIRE_SERVICES=1, when it fails instead.
 */
import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { type TestRelay, device, relay, token, until } from './helpers.js'

const CHROMIUM = '/usr/bin/chromium'
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
const available = existsSync(CHROMIUM)
const required = process.env.APISYNC_REQUIRE_SERVICES === '1'
if (!available && !required) {
  console.warn(
    `\n${'!'.repeat(78)}\n!! SKIPPING the browser test: ${CHROMIUM} is missing (apt-get install -y chromium).\n!! Set APISYNC_REQUIRE_SERVICES=1 to make this a failure.\n${'!'.repeat(78)}\n`,
  )
}

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url))
let server: Server
let pageUrl: string
let browser: Browser
let r: TestRelay

beforeAll(async () => {
  if (!available) return
  const bundle = await build({
    entryPoints: [src('./browser/page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    alias: { '@apisync/client': src('../../packages/client/src/index.ts'), '@apisync/model': src('../../packages/model/src/index.ts') },
    logLevel: 'silent',
  })
  const js = bundle.outputFiles[0]!.text
  server = createServer((req, res) => {
    if (req.url?.startsWith('/page.js')) res.writeHead(200, { 'content-type': 'text/javascript' }).end(js)
    else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script type="module" src="/page.js"></script>')
  })
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res))
  r = await relay()
  pageUrl = `http://localhost:${(server.address() as { port: number }).port}/?relay=${encodeURIComponent(r.url)}`
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS })
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await r?.close()
  await new Promise((res) => (server ? server.close(res) : res(undefined)))
})

test.skipIf(!available && !required)('edits persist in IndexedDB across a reload and a relay outage, then sync', async () => {
  expect(available, `${CHROMIUM} is required (APISYNC_REQUIRE_SERVICES=1)`).toBe(true)
  const context = await browser.newContext()
  const page = await context.newPage()
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  await page.exposeFunction('getToken', () => token('alice', 'browser', { w1: 'owner' }))
  const inState = (state: string, pending?: number) =>
    page.waitForFunction(
      ([s, p]) => window.app.status().doc.state === s && (p === null || window.app.status().doc.pending === p),
      [state, pending ?? null] as const,
      { timeout: 15_000 },
    )

  await page.goto(pageUrl)
  await page.waitForFunction(() => window.app !== undefined)
  expect(await page.evaluate(() => window.app.init(true))).toEqual({ restored: false, names: [] })
  await page.evaluate(() => window.app.add('online'))
  await inState('in-sync', 0)

  // The relay goes down; edits land in IndexedDB and are pending.
  await r.stop()
  await inState('connecting')
  await page.evaluate(async () => {
    await window.app.add('offline 1')
    await window.app.add('offline 2')
  })
  expect(await page.evaluate(() => window.app.status().doc)).toMatchObject({ state: 'connecting', pending: 2, stored: true })

  // Reload: the account comes back from the device's list, the data and the pending count from IndexedDB.
  await page.reload()
  await page.waitForFunction(() => window.app !== undefined)
  const again = await page.evaluate(() => window.app.init(false))
  expect(again.restored).toBe(true)
  expect(again.names.sort()).toEqual(['offline 1', 'offline 2', 'online'])
  expect(await page.evaluate(() => window.app.status().doc.pending)).toBe(2)
  expect(await page.evaluate(() => window.app.databases())).toEqual(
    expect.arrayContaining(['apisync-accounts', 'apisync:alice:w1/collection/c1', 'apisync:alice:w1/manifest']),
  )

  // The browser's offline event takes it offline (not trying); online brings it back to trying.
  await context.setOffline(true)
  await inState('offline')
  await context.setOffline(false)
  await inState('connecting')

  await r.restart()
  await inState('in-sync', 0)
  const other = device({ relayUrl: r.url, sub: 'alice', sid: 'node', ws: { w1: 'owner' } })
  const col = await (await (await other.signIn()).openWorkspace('w1')).collection('c1')
  await until(col.status, (s) => s.state === 'in-sync')
  expect(col.model.snapshot().items.map((i) => i.name).sort()).toEqual(['offline 1', 'offline 2', 'online'])
  await other.close()

  // Signing out deletes the account's databases from the browser's IndexedDB.
  const deleted = await page.evaluate(() => window.app.signOut())
  expect(deleted).toEqual(expect.arrayContaining(['apisync:alice:w1/collection/c1', 'apisync:alice:w1/manifest']))
  expect((await page.evaluate(() => window.app.databases())).filter((n) => n.startsWith('apisync:alice:'))).toEqual([])
  expect(errors).toEqual([])
  await context.close()
}, 60_000)
