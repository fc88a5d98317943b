/**
 * The demo web app in Chromium: the app built once, served with the relay by examples/web/server.ts on a free
 * port, and browser "devices", each a Chromium with a fresh user-data-dir (its own IndexedDB and storage).
 */
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { silentLogger } from '@apisync/relay'
import { type BrowserContext, type Locator, type Page, chromium } from 'playwright-core'
import { afterAll, afterEach, beforeAll, expect } from 'vitest'
import { type WebServer, type WebServerOptions, buildApp, isStale, startWebServer } from '../../examples/web/server.js'

export const CHROMIUM = '/usr/bin/chromium'
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
export const available = existsSync(CHROMIUM)
export const required = process.env.APISYNC_REQUIRE_SERVICES === '1'
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/web/', import.meta.url))
export const FIXTURES = fileURLToPath(new URL('../fixtures/postman/', import.meta.url))

if (!available && !required) {
  console.warn(
    `\n${'!'.repeat(78)}\n!! SKIPPING the web app tests: ${CHROMIUM} is missing (apt-get install -y chromium).\n!! Set APISYNC_REQUIRE_SERVICES=1 to make this a failure.\n${'!'.repeat(78)}\n`,
  )
}

/** The app and relay on one port; `stop`/`restart` take the relay away and bring it back (same port, same data). */
export interface Site {
  url: string
  dataDir: string
  stop(): Promise<void>
  restart(): Promise<void>
  close(): Promise<void>
}

/**
 * The built app, shared by every test file of a run (and the next run, while no source changed): built once
 * into a directory of this checkout's own, under a lock so that files running in parallel wait for one build.
 */
export async function builtApp(): Promise<string> {
  const outDir = join(tmpdir(), `apisync-web-build-${createHash('sha256').update(fileURLToPath(import.meta.url)).digest('hex').slice(0, 12)}`)
  const lock = `${outDir}.lock`
  for (;;) {
    if (!isStale(outDir)) return outDir
    try {
      await mkdir(lock)
    } catch {
      // Another file is building: wait for it (a lock older than 5 minutes is a crashed build's).
      const age = Date.now() - (await stat(lock).then((s) => s.mtimeMs, () => Date.now()))
      if (age > 300_000) await rm(lock, { recursive: true, force: true })
      await new Promise((r) => setTimeout(r, 500))
      continue
    }
    try {
      if (isStale(outDir)) await buildApp({ outDir })
      return outDir
    } finally {
      await rm(lock, { recursive: true, force: true })
    }
  }
}

/** `outDir`: serve this build (e.g. a copy of builtApp() a test changes) instead of the shared one. */
export async function site(options: Pick<WebServerOptions, 'proxy' | 'maxDevices' | 'outDir'> = {}): Promise<Site> {
  const root = await mkdtemp(join(tmpdir(), 'apisync-web-'))
  const outDir = options.outDir ?? (await builtApp())
  const dataDir = join(root, 'data')
  const start = (port: number) => startWebServer({ ...options, port, host: '127.0.0.1', dataDir, outDir, build: 'never', logger: silentLogger })
  let web: WebServer | null = await start(0)
  const port = web.port
  return {
    url: web.url,
    dataDir,
    async stop() {
      await web?.close()
      web = null
    },
    async restart() {
      for (let i = 0; ; i++) {
        try {
          web = await start(port)
          return
        } catch (err) {
          if (i > 40) throw err
          await new Promise((r) => setTimeout(r, 50))
        }
      }
    },
    async close() {
      await web?.close()
      web = null
      await rm(root, { recursive: true, force: true })
    },
  }
}

export interface BrowserSuite {
  /** False when the suite skips (no Chromium, and not required). */
  readonly run: boolean
  /** The site the suite serves (set in beforeAll). */
  readonly web: Site
  /** A new device on `on` (default: the suite's site), closed when the test ends. */
  open(name: string, options?: Parameters<typeof device>[2], on?: Site): Promise<Device>
  /** Close `d` (e.g. a tab) with the test's devices. */
  track(d: Device): Device
  /** Close the devices opened so far (before closing a site of the test's own they are on). */
  closeDevices(): Promise<void>
}

/**
 * The setup every browser suite shares: one site for the file (`siteOptions`, `before` runs first, `after`
 * last), and devices closed when each test ends (a few Chromiums at a time, not all of them).
 */
export function browserSuite(options: { site?: Parameters<typeof site>[0]; before?: () => Promise<void>; after?: () => Promise<void> } = {}): BrowserSuite {
  const run = available || required
  let web: Site | undefined
  const opened: Device[] = []
  beforeAll(async () => {
    if (!run) return
    expect(available, `${CHROMIUM} is required (APISYNC_REQUIRE_SERVICES=1)`).toBe(true)
    await options.before?.()
    web = await site(options.site)
  }, 180_000)
  const closeDevices = async () => {
    await Promise.all(opened.splice(0).map((d) => d.close().catch(() => {})))
  }
  afterEach(closeDevices)
  afterAll(async () => {
    await web?.close()
    await options.after?.()
  })
  const suite: BrowserSuite = {
    run,
    get web() {
      if (!web) throw new Error('the site is not up (beforeAll)')
      return web
    },
    async open(name, deviceOptions, on) {
      const d = await device((on ?? suite.web).url, name, deviceOptions)
      opened.push(d)
      return d
    },
    track(d) {
      opened.push(d)
      return d
    },
    closeDevices,
  }
  return suite
}

export interface Device {
  readonly name: string
  readonly context: BrowserContext
  readonly page: Page
  readonly errors: string[]
  /** Waits for the sync indicator to show `state`. */
  inState(state: 'offline' | 'connecting' | 'syncing' | 'in-sync' | 'error', timeout?: number): Promise<void>
  /** The states the indicator went through, oldest first. */
  history(): Promise<string[]>
  shot(name: string): Promise<void>
  /** What the device shows and said, for a failure's message: title, status and its history, toasts, errors, last console lines. */
  report(): Promise<string>
  close(): Promise<void>
}

export async function device(url: string, name: string, options: { initScript?: () => void } = {}): Promise<Device> {
  const profile = await mkdtemp(join(tmpdir(), `apisync-chromium-${name}-`))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: FLAGS,
    viewport: { width: 1440, height: 880 },
    acceptDownloads: true,
  })
  context.setDefaultTimeout(15_000)
  if (options.initScript) await context.addInitScript(options.initScript)
  const page = context.pages()[0] ?? (await context.newPage())
  return wrap(name, context, page, url, async () => {
    await context.close()
    await rm(profile, { recursive: true, force: true })
  })
}

/** Another tab of a device: a page of the same browser profile (same IndexedDB, same origin). */
export async function tab(d: Device, name = `${d.name}-tab`): Promise<Device> {
  const page = await d.context.newPage()
  return wrap(name, d.context, page, new URL(d.page.url()).origin + '/', () => page.close())
}

async function wrap(name: string, context: BrowserContext, page: Page, url: string, close: () => Promise<void>): Promise<Device> {
  const errors: string[] = []
  const consoleLines: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  page.on('console', (m) => {
    consoleLines.push(`${m.type()}: ${m.text()}`.slice(0, 300))
    if (consoleLines.length > 20) consoleLines.shift()
    if (process.env.APISYNC_WEB_DEBUG) console.log(`[${name}] ${m.type()}: ${m.text()}`)
  })
  await page.goto(url)
  const indicator = page.getByTestId('sync-indicator')
  return {
    name,
    context,
    page,
    errors,
    async inState(state, timeout = 20_000) {
      // The indicator is drawn a frame after the app's status changes: right after an edit it may still say
      // in-sync from before. Both must agree (the status is the app's, read the moment it is asked).
      await page.waitForFunction(
        (s) => {
          const app = (window as unknown as { apisync?: { status: { state: string } | null; view?: { local?: boolean } | null } }).apisync
          const status = !app?.status || app.view?.local ? null : app.status.state
          return document.querySelector('[data-testid=sync-indicator]')?.getAttribute('data-state') === s && (status === null || status === s)
        },
        state,
        { timeout },
      )
    },
    async history() {
      await indicator.waitFor({ state: 'attached' })
      return page.evaluate(() => (window as unknown as { apisync: { statusHistory: { state: string }[] } }).apisync.statusHistory.map((e) => e.state))
    },
    async report() {
      const seen = await page
        .evaluate(() => {
          const app = (window as unknown as { apisync?: { status: unknown; statusHistory: unknown } }).apisync
          const text = (id: string) => [...document.querySelectorAll(`[data-testid^=${id}]`)].map((e) => e.textContent)
          return { title: text('workspace-title'), status: app?.status ?? null, statusHistory: app?.statusHistory ?? null, toasts: text('toast') }
        })
        .catch((e: unknown) => ({ unreadable: String(e) }))
      return JSON.stringify({ device: name, ...seen, errors, console: consoleLines })
    },
    async shot(file) {
      await mkdir(ARTIFACTS, { recursive: true })
      await page.bringToFront()
      await page.screenshot({ path: join(ARTIFACTS, `${file}.png`) })
    },
    close,
  }
}

export async function signIn(d: Device, name: string, deviceName: string): Promise<void> {
  const form = d.page.getByTestId('signin-form')
  await d.page.locator('[data-testid=signin-form], [data-testid=account-button]').first().waitFor()
  if (await form.isVisible()) {
    await form.getByLabel('Your name').fill(name)
    await form.getByLabel('This device').fill(deviceName)
    await d.page.getByTestId('signin-submit').click()
  } else {
    await d.page.getByTestId('account-button').click()
    await d.page.getByTestId('add-account').click()
    const dialog = d.page.getByTestId('dialog')
    await dialog.getByLabel('Your name').fill(name)
    await dialog.getByLabel('This device').fill(deviceName)
    await dialog.getByTestId('dialog-submit').click()
  }
  await d.page.getByTestId('workspace-title').waitFor()
}

/** Fills a dialog's fields by label and submits it. */
export async function submitDialog(page: Page, fields: Record<string, string> = {}): Promise<void> {
  const dialog = page.getByTestId('dialog')
  for (const [label, value] of Object.entries(fields)) await dialog.getByLabel(label, { exact: true }).fill(value)
  await dialog.getByTestId('dialog-submit').click()
  await dialog.waitFor({ state: 'detached' })
}

export const treeItem = (page: Page, name: string): Locator => page.locator(`[data-testid=tree-item][data-name="${name}"]`)

/** The account's pending count and sync state as the page's app holds them (no render needed: a hidden tab does not paint). */
export const appStatus = (page: Page): Promise<{ state: string; pending: number } | null> =>
  page.evaluate(() => {
    const s = (window as unknown as { apisync: { status: { state: string; pending: number } | null } }).apisync.status
    return s ? { state: s.state, pending: s.pending } : null
  })

/** Creates a collection with one request (URL set) through the UI, and opens the request. */
export async function collectionWithRequest(page: Page, collection: string, request: string, url: string): Promise<void> {
  await page.getByTestId('new-collection').click()
  await submitDialog(page, { Name: collection })
  await page.getByTestId('new-request').click()
  await submitDialog(page, { Name: request })
  await page.getByTestId('url-input').fill(url)
  await page.getByTestId('url-input').press('Enter')
}

/** The files of the relay's data directory as text: what the relay stored (SQLite, its WAL included). */
export async function relayStored(dataDir: string): Promise<string> {
  const { readdir, readFile } = await import('node:fs/promises')
  const files = await readdir(dataDir).catch(() => [] as string[])
  return (await Promise.all(files.map((f) => readFile(join(dataDir, f)).catch(() => Buffer.alloc(0))))).map((b) => b.toString('latin1')).join('\n')
}


/** Opens a request by clicking through the tree (collections and folders expand on click). */
export async function openRequest(page: Page, collection: string, request: string): Promise<void> {
  const item = treeItem(page, request)
  if (!(await item.isVisible())) await treeItem(page, collection).click()
  await item.click()
  // The editor of the request before stays until the next frame: wait for this one's.
  await page.locator(`[data-testid=request-editor][data-name="${request}"]`).waitFor()
}

/** Runs an item's ⋯ menu entry. */
export async function itemMenu(page: Page, name: string, entry: string): Promise<void> {
  const row = treeItem(page, name)
  await row.hover()
  await row.getByTestId('item-menu').click()
  await page.getByTestId('context-menu').getByRole('menuitem', { name: entry, exact: true }).click()
}

/** Types at the start or the end of a textarea, keystroke by keystroke (each one a character edit). */
export async function typeIn(area: Locator, text: string, at: 'start' | 'end'): Promise<void> {
  await area.click()
  await area.press(at === 'start' ? 'Control+Home' : 'Control+End')
  await area.pressSequentially(text)
}

export async function until(check: () => Promise<boolean>, timeout = 15_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeout
  for (;;) {
    if (await check()) return
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
