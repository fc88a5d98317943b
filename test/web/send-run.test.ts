/**
 * The demo as an API client, in Chromium against the real relay and proxy, with a local HTTP server as the API
 * under test: Send with variables from the environment chosen on this device (local values first, unresolved
 * ones marked, hover with scope and secrets masked), save a response as an example and see it on another
 * device, run a folder with passing and failing tests and follow it live on a second device, and bad input
 * (unreachable host, timeout, 50 MB response, an endless-loop script, a script reaching for the app's data)
 * that gives a clear message and leaves the app usable. Screenshots go to test-artifacts/web/.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { describe, expect, test } from 'vitest'
import { type ApiServer, startApi } from './api-server.js'
import { type Device, browserSuite, openRequest, signIn, submitDialog, tab, treeItem, until } from './helpers.js'

let api: ApiServer
let files: string
// A short proxy deadline so the timeout case is quick; the default size limit (10 MiB).
const suite = browserSuite({
  site: { proxy: { timeoutMs: 3_000 } },
  before: async () => {
    api = await startApi()
    files = await mkdtemp(join(tmpdir(), 'apisync-send-'))
  },
  after: async () => {
    await api?.close()
    if (files) await rm(files, { recursive: true, force: true })
  },
})
const { run } = suite
const open = suite.open

/** Imports a Postman file (written from `json`) through the app's import button. */
async function importJson(page: Page, name: string, json: unknown): Promise<void> {
  const path = join(files, `${name}-${crypto.randomUUID()}.json`)
  await writeFile(path, JSON.stringify(json))
  const chooser = page.waitForEvent('filechooser')
  await page.getByTestId('import').click()
  await (await chooser).setFiles(path)
}

const script = (listen: 'test' | 'prerequest', ...lines: string[]) => ({ listen, script: { type: 'text/javascript', exec: lines } })
const collection = (name: string, item: unknown[]) => ({ info: { name, schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' }, item })
const environment = (name: string, values: Record<string, string>, secret: string[] = []) => ({
  name,
  values: Object.entries(values).map(([key, value]) => ({ key, value, enabled: true, ...(secret.includes(key) ? { type: 'secret' } : {}) })),
  _postman_variable_scope: 'environment',
})

async function ready(d: Device, name: string, deviceName: string): Promise<void> {
  await signIn(d, name, deviceName)
  await d.inState('in-sync')
  await until(async () => (await d.page.getByTestId('key-state').textContent()) === 'keys: ready', 15_000, 'account keys')
}

const bodyJson = async (page: Page): Promise<Record<string, unknown>> => JSON.parse((await page.getByTestId('response-body').textContent()) ?? 'null') as Record<string, unknown>

describe.skipIf(!run)('the demo as an API client', () => {
  test('send with variables from the chosen environment, local values first; save the response as an example, seen on another device', async () => {
    const laptop = await open('send-laptop')
    await ready(laptop, 'Sena', 'Laptop')
    await importJson(laptop.page, 'env', environment('Local API', { baseUrl: api.url, userId: '1', token: 'tok-secret' }, ['token']))
    await laptop.page.locator('[data-testid=environment-item][data-name="Local API"]').waitFor()
    await importJson(
      laptop.page,
      'users',
      collection('Users API', [
        {
          name: 'Echo me',
          request: {
            method: 'POST',
            url: '{{baseUrl}}/echo/me?user={{userId}}&missing={{nope}}',
            header: [{ key: 'X-Token', value: '{{token}}' }],
            auth: { type: 'bearer', bearer: [{ key: 'token', value: '{{token}}', type: 'string' }] },
            body: { mode: 'raw', raw: '{"user": "{{userId}}"}', options: { raw: { language: 'json' } } },
          },
          event: [script('test', "pm.test('status is 200', () => pm.response.to.have.status(200))", "pm.test('echoes the user', () => pm.expect(pm.response.json().query.user).to.equal(pm.environment.get('userId')))")],
        },
      ]),
    )
    await openRequest(laptop.page, 'Users API', 'Echo me')
    const page = laptop.page

    // No environment yet: every variable is unresolved, and marked so. The picker sits in the top bar, once.
    expect(await page.locator('header.topbar [data-testid=env-picker]').inputValue()).toBe('')
    expect(await page.getByTestId('env-picker').count()).toBe(1)
    await until(async () => (await page.getByTestId('unresolved-vars').getAttribute('data-count')) === '4', 10_000, 'four unresolved variables')
    expect(await page.locator('.url-bar [data-testid=var-token][data-var=baseUrl]').getAttribute('data-state')).toBe('missing')

    // Choose the environment on this device: the URL's variables resolve, {{nope}} stays marked.
    await page.getByTestId('env-picker').selectOption({ label: 'Local API' })
    await until(async () => (await page.locator('.url-bar [data-testid=var-token][data-var=baseUrl]').getAttribute('data-state')) === 'resolved', 10_000, 'baseUrl resolved')
    expect(await page.getByTestId('unresolved-vars').getAttribute('data-count')).toBe('1')
    expect(await page.getByTestId('unresolved-vars').textContent()).toContain('{{nope}}')
    expect(await page.locator('.url-bar [data-testid=var-token][data-var=nope]').getAttribute('data-state')).toBe('missing')

    // Hover: value and scope.
    const box = (await page.locator('.url-bar [data-testid=var-token][data-var=baseUrl]').boundingBox())!
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2)
    const tip = page.getByTestId('var-tooltip')
    await tip.waitFor({ state: 'visible' })
    expect(await tip.getByTestId('var-tooltip-value').textContent()).toBe(api.url)
    expect(await tip.getByTestId('var-tooltip-scope').textContent()).toBe('Environment “Local API” · shared value')
    await laptop.shot('11-variables-hover')
    // A secret is masked.
    await page.getByRole('tab', { name: /Headers/ }).click()
    const secretBox = (await page.locator('[data-testid=header-rows] [data-testid=var-token][data-var=token]').boundingBox())!
    await page.mouse.move(secretBox.x + 4, secretBox.y + secretBox.height / 2)
    await until(async () => (await tip.getAttribute('data-var')) === 'token', 5_000, 'the token tooltip')
    expect(await tip.getByTestId('var-tooltip-value').textContent()).toBe('••••••')
    expect(await tip.getByTestId('var-tooltip-scope').textContent()).toContain('secret')
    await page.mouse.move(5, 5)
    await page.getByRole('tab', { name: /Body/ }).click()
    expect(await page.locator('.var-field.multiline [data-testid=var-token][data-var=userId]').getAttribute('data-state')).toBe('resolved')
    await laptop.shot('11b-body-variables')

    // Send: resolved URL, header, auth and body reach the API; tests run; the panel shows status, time, size.
    await page.getByTestId('send').click()
    await page.locator('[data-testid=response-panel][data-phase=done]').waitFor()
    expect(await page.getByTestId('response-status').textContent()).toBe('200 OK')
    expect(await page.getByTestId('response-time').textContent()).toMatch(/^\d+ ms$/)
    expect(await page.getByTestId('response-size').textContent()).toMatch(/^[\d.]+ (B|KB)$/)
    expect(await page.getByTestId('sent-url').textContent()).toBe(`POST ${api.url}/echo/me?user=1&missing={{nope}} · environment “Local API”`)
    const echo = await bodyJson(page)
    expect(echo.method).toBe('POST')
    expect(echo.query).toEqual({ user: '1', missing: '{{nope}}' })
    expect((echo.headers as Record<string, string>)['x-token']).toBe('tok-secret')
    expect((echo.headers as Record<string, string>).authorization).toBe('Bearer tok-secret')
    expect((echo.headers as Record<string, string>)['content-type']).toBe('application/json')
    expect(echo.body).toBe('{"user": "1"}')
    expect(await page.getByTestId('response-body').getAttribute('data-view')).toBe('pretty')
    expect(await page.getByTestId('response-body').textContent()).toContain('\n  "method": "POST"')
    await page.getByTestId('view-raw').click()
    await page.locator('[data-testid=response-body][data-view=raw]').waitFor()
    expect(await page.getByTestId('response-body').textContent()).toMatch(/^\{"method":"POST"/)
    expect(await page.getByTestId('tests-count').textContent()).toBe('2/2')
    await page.getByTestId('send-warning').filter({ hasText: '{{nope}}' }).waitFor()
    await laptop.shot('12-response')

    // This device's local value of userId wins over the shared one.
    await page.locator('[data-testid=environment-item][data-name="Local API"]').click()
    const row = page.locator('[data-testid=variable-row][data-key=userId]')
    await row.getByTestId('local-value').fill('2')
    await row.getByTestId('local-value').press('Enter')
    await openRequest(page, 'Users API', 'Echo me')
    await page.getByTestId('send').click()
    await until(async () => ((await bodyJson(page).catch(() => ({}))) as { query?: { user?: string } }).query?.user === '2', 10_000, 'the local value sent')

    // Save as example: synced to the other device.
    await page.getByTestId('save-example').click()
    await submitDialog(page, { Name: 'Echo of user 2' })
    await page.getByRole('tab', { name: /Examples/ }).click()
    const exampleNames = (p: Page) => p.locator('[data-testid=example] input[aria-label="Example name"]').evaluateAll((inputs) => inputs.map((i) => (i as HTMLInputElement).value))
    await until(async () => (await exampleNames(page)).includes('Echo of user 2'), 10_000, 'the example')
    await laptop.inState('in-sync')

    const phone = await open('send-phone')
    // The second device of the account has no key until it recovers it.
    await signIn(phone, 'Sena', 'Phone')
    await phone.inState('in-sync')
    await openRequest(phone.page, 'Users API', 'Echo me')
    await phone.page.getByRole('tab', { name: /Examples/ }).click()
    await until(async () => (await exampleNames(phone.page)).includes('Echo of user 2'), 15_000, 'the example on the phone')
    const example = phone.page.getByTestId('example').first()
    expect(await example.locator('input[aria-label="Status code"]').inputValue()).toBe('200')
    expect(await example.locator('textarea').inputValue()).toContain('"user":"2"')
    // The active environment is per device: none chosen on the phone.
    expect(await phone.page.getByTestId('env-picker').inputValue()).toBe('')
    // Chosen there, the sealed values are locked until the phone recovers the account key: marked, not sent.
    await phone.page.getByTestId('env-picker').selectOption({ label: 'Local API' })
    await until(async () => (await phone.page.locator('.url-bar [data-testid=var-token][data-var=baseUrl]').getAttribute('data-state')) === 'locked', 10_000, 'a locked variable')
    await phone.shot('13-example-on-phone')
    expect([...laptop.errors, ...phone.errors]).toEqual([])
  }, 120_000)

  test('run a folder: passing and failing tests, variables carried from request to request, followed live on a second device', async () => {
    const laptop = await open('run-laptop')
    await ready(laptop, 'Rune', 'Laptop')
    await importJson(laptop.page, 'env', environment('Run env', { baseUrl: api.url, pw: 'pw' }))
    await laptop.page.locator('[data-testid=environment-item][data-name="Run env"]').waitFor()
    await importJson(
      laptop.page,
      'shop',
      collection('Shop', [
        {
          name: 'Checks',
          item: [
            {
              name: 'Login',
              request: { method: 'POST', url: '{{baseUrl}}/login', body: { mode: 'raw', raw: '{"user":"ann","password":"{{pw}}"}', options: { raw: { language: 'json' } } } },
              event: [script('test', "pm.test('logged in', () => pm.response.to.have.status(200))", "pm.environment.set('token', pm.response.json().token)")],
            },
            {
              name: 'Slow',
              request: { method: 'GET', url: '{{baseUrl}}/slow/2500' },
              event: [script('test', "pm.test('slept', () => pm.expect(pm.response.json().slept).to.equal(2500))")],
            },
            {
              name: 'Me',
              request: { method: 'GET', url: '{{baseUrl}}/echo/me', header: [{ key: 'Authorization', value: 'Bearer {{token}}' }] },
              event: [script('test', "pm.test('the token from Login', () => pm.expect(pm.response.json().headers.authorization).to.equal('Bearer tok-ann'))")],
            },
            {
              name: 'Missing user',
              request: { method: 'GET', url: '{{baseUrl}}/users/99' },
              event: [script('test', "pm.test('found', () => pm.response.to.have.status(200))", "pm.test('is JSON', () => pm.response.to.be.json)")],
            },
          ],
        },
        { name: 'Outside the folder', request: { method: 'GET', url: '{{baseUrl}}/users/2' } },
      ]),
    )
    await treeItem(laptop.page, 'Checks').waitFor()
    await laptop.inState('in-sync')

    // The other device watches the collection's run results.
    const phone = await open('run-phone')
    await signIn(phone, 'Rune', 'Phone')
    await phone.inState('in-sync')
    await treeItem(phone.page, 'Shop').click()
    await phone.page.getByTestId('open-runs').click()
    await phone.page.getByTestId('runs-view').waitFor()

    await treeItem(laptop.page, 'Checks').click()
    await laptop.page.getByTestId('folder-editor').waitFor()
    // The run uses this device's environment.
    await laptop.page.getByTestId('env-picker').selectOption({ label: 'Run env' })
    await until(async () => (await laptop.page.getByTestId('run-environment').textContent()) === 'with “Run env”', 5_000, 'the run environment named')
    await laptop.page.getByTestId('run-target').click()
    await laptop.page.getByTestId('runs-view').waitFor()

    // Live on the phone, while the slow request is out.
    const live = phone.page.getByTestId('live-run')
    await live.waitFor({ timeout: 15_000 })
    await until(async () => /^[12]\/4$/.test((await live.getAttribute('data-progress').catch(() => null)) ?? ''), 10_000, 'the run in progress on the phone')
    await phone.shot('14-run-live-on-phone')

    // Finished: the same result on both devices, newman-like.
    for (const d of [laptop, phone]) {
      const result = d.page.locator('[data-testid=run][data-result=fail]')
      await result.waitFor({ timeout: 20_000 })
      await until(async () => (await d.page.getByTestId('live-run').count()) === 0, 10_000, `${d.name}: no run in progress`)
      expect(await result.getByTestId('run-totals').textContent()).toMatch(/^4 requests · 4\/5 tests passed/)
      await result.locator('.run-head').click()
      await result.getByTestId('executions').waitFor()
      const rows = result.getByTestId('execution')
      expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-name')))).toEqual(['Login', 'Slow', 'Me', 'Missing user'])
      const missing = result.locator('[data-testid=execution][data-name="Missing user"]')
      expect(await missing.locator('td').nth(1).textContent()).toBe('404 Not Found')
      expect(await missing.locator('[data-testid=assertion][data-passed=false]').textContent()).toContain('found — AssertionError: expected response to have status 200 but got 404')
      expect(await result.locator('[data-testid=execution][data-name=Me] [data-testid=assertion][data-passed=true]').textContent()).toContain('the token from Login')
    }
    await laptop.shot('15-run-result')

    // Run the whole collection from here and stop it while the slow request is out: recorded as stopped, on both.
    await laptop.page.getByTestId('run-target').click()
    await laptop.page.getByTestId('stop-run').click()
    for (const d of [laptop, phone]) {
      const stoppedRun = d.page.getByTestId('run').filter({ has: d.page.getByTestId('run-error') })
      await stoppedRun.waitFor({ timeout: 15_000 })
      expect(await stoppedRun.getByTestId('run-error').textContent()).toMatch(/stopped on Laptop after [0-2] of 5 requests/)
      expect(await d.page.getByTestId('run').count()).toBe(2)
    }
    // Run variables stay in the run: the environment has no token afterwards.
    await laptop.page.locator('[data-testid=environment-item][data-name="Run env"]').click()
    await laptop.page.locator('[data-testid=variable-row][data-key=baseUrl]').waitFor()
    expect(await laptop.page.locator('[data-testid=variable-row][data-key=token]').count()).toBe(0)
    expect([...laptop.errors, ...phone.errors]).toEqual([])
  }, 120_000)

  test('a run whose device went away mid-run is marked as interrupted on the other device; both see the interrupted run', async () => {
    const laptop = await open('stall-laptop')
    await ready(laptop, 'Stella', 'Laptop')
    await importJson(
      laptop.page,
      'stall',
      collection('Stalls', [
        { name: 'Quick', request: { method: 'GET', url: `${api.url}/users/1` }, event: [script('test', "pm.test('ok', () => pm.response.to.have.status(200))")] },
        { name: 'Slow 1', request: { method: 'GET', url: `${api.url}/slow/2500` } },
        { name: 'Slow 2', request: { method: 'GET', url: `${api.url}/slow/2500` } },
        { name: 'Slow 3', request: { method: 'GET', url: `${api.url}/slow/2500` } },
      ]),
    )
    await treeItem(laptop.page, 'Stalls').waitFor()
    await laptop.inState('in-sync')

    // The phone follows the run results; its clock is one the test can move on ("a while later").
    const phone = await open('stall-phone')
    await phone.page.clock.install()
    await phone.page.reload()
    await signIn(phone, 'Stella', 'Phone')
    await phone.inState('in-sync')
    await treeItem(phone.page, 'Stalls').click()
    await phone.page.getByTestId('open-runs').click()
    await phone.page.getByTestId('runs-view').waitFor()

    await treeItem(laptop.page, 'Stalls').click()
    await laptop.page.getByTestId('run-target').click()
    const live = phone.page.getByTestId('live-run')
    await until(async () => (await live.getAttribute('data-progress').catch(() => null)) === '1/4', 15_000, 'the run in progress on the phone')
    // The laptop goes away mid-run (its tab closed while a slow request is out).
    await laptop.page.close()
    expect(await live.locator('.badge').first().textContent()).toBe('RUNNING')
    expect(await phone.page.getByTestId('interrupt-run').count()).toBe(0)

    // Nothing more arrives; a couple of minutes later the phone shows the run as stalled and offers to end it.
    await phone.page.clock.fastForward('02:00')
    const interrupt = phone.page.getByTestId('interrupt-run')
    await interrupt.waitFor({ timeout: 20_000 })
    expect(await live.locator('.badge').first().textContent()).toBe('STALLED')
    expect(await live.getAttribute('data-progress')).toBe('1/4')
    await phone.shot('16-run-stalled')
    await interrupt.click()
    await live.waitFor({ state: 'detached', timeout: 10_000 })
    // (Two minutes without a word from the relay: the phone reconnects, as after a sleep, and sends it.)
    await phone.inState('in-sync', 30_000)

    // Both devices see the run ended as interrupted, with what was done before the laptop went away.
    const back = await tab(laptop, 'stall-laptop-back')
    suite.track(back)
    await back.inState('in-sync')
    await treeItem(back.page, 'Stalls').click()
    await back.page.getByTestId('open-runs').click()
    for (const d of [phone, back]) {
      const ended = d.page.locator('[data-testid=run][data-result=fail]')
      await ended.waitFor({ timeout: 15_000 })
      expect(await ended.getByTestId('run-error').textContent()).toContain('no progress for a while: marked as interrupted on Phone')
      expect(await ended.getByTestId('run-totals').textContent()).toMatch(/^1 requests · 1\/1 tests passed/)
      expect(await d.page.getByTestId('live-run').count()).toBe(0)
      expect(await d.page.getByTestId('run').count()).toBe(1)
    }
    await back.shot('16-run-interrupted')
    expect([...laptop.errors, ...phone.errors, ...back.errors]).toEqual([])
  }, 120_000)

  test('bad input gives a clear message and leaves the app usable: unreachable, timeout, 50 MB, an endless loop, a script reaching for the app', async () => {
    const d = await open('bad-input')
    await ready(d, 'Bea', 'Laptop')
    const page = d.page
    const gone = await startApi()
    await gone.close()
    await page.evaluate(() => {
      localStorage.setItem('mark', 'MARK-4711')
      document.cookie = 'mark=MARK-4711; path=/'
    })
    const probe = [
      'const leaks = []',
      "try { if (typeof localStorage !== 'undefined' && JSON.stringify(localStorage).includes('MARK-4711')) leaks.push('localStorage') } catch (e) {}",
      "try { if (typeof document !== 'undefined' && (document.cookie.includes('MARK-4711') || document.body.innerHTML.includes('MARK-4711'))) leaks.push('document') } catch (e) {}",
      "try { if (typeof parent !== 'undefined' && parent.document) leaks.push('parent') } catch (e) {}",
      "pm.test('nothing of the app is readable', () => pm.expect(leaks).to.deep.equal([]))",
      "pm.test('IndexedDB is refused', () => { let error = null; try { indexedDB.open('apisync-probe') } catch (e) { error = e.name } pm.expect(error).to.equal('SecurityError') })",
      "pm.test('IndexedDB cannot be listed', async () => { let names = null; try { names = (await indexedDB.databases()).map((x) => x.name) } catch (e) { names = [] } pm.expect(names).to.deep.equal([]) })",
      `pm.test('no network, not even to the app', async () => { let reached = false; try { await fetch(${JSON.stringify(suite.web.url)} + '/healthz'); reached = true } catch (e) {} pm.expect(reached).to.equal(false) })`,
      "pm.test('no cache storage', async () => { let opened = false; try { await caches.open('x'); opened = true } catch (e) {} pm.expect(opened).to.equal(false) })",
    ]
    await importJson(
      page,
      'bad',
      collection('Bad input', [
        { name: 'Unreachable', request: { method: 'GET', url: `${gone.url}/x` } },
        { name: 'Hangs', request: { method: 'GET', url: `${api.url}/hang` } },
        { name: 'Huge MARK-4711', request: { method: 'GET', url: `${api.url}/big?mb=50` } },
        { name: 'Loops', request: { method: 'GET', url: `${api.url}/users/1` }, event: [script('test', "pm.test('before the loop', () => {})", 'while (true) {}')] },
        { name: 'Probe', request: { method: 'GET', url: `${api.url}/users/1` }, event: [script('test', ...probe)] },
        { name: 'Fine', request: { method: 'GET', url: `${api.url}/users/2` }, event: [script('test', "pm.test('Bob', () => pm.expect(pm.response.json().name).to.equal('Bob'))")] },
      ]),
    )
    await treeItem(page, 'Bad input').waitFor()

    const sendAndFail = async (name: string, code: string, message: RegExp) => {
      await openRequest(page, 'Bad input', name)
      await page.getByTestId('send').click()
      const error = page.getByTestId('response-error')
      await error.waitFor({ timeout: 20_000 })
      expect(await error.getAttribute('data-code')).toBe(code)
      expect(await page.getByTestId('response-error-message').textContent()).toMatch(message)
    }
    await sendAndFail('Unreachable', 'UNREACHABLE', /could not connect to 127\.0\.0\.1:\d+: connection refused/)
    await sendAndFail('Hangs', 'TIMEOUT', /no complete response from 127\.0\.0\.1:\d+ within 3 s/)
    await sendAndFail('Huge MARK-4711', 'TOO_LARGE', /larger than the demo's limit of 10 MiB/)
    await d.shot('16-too-large')
    await expect.poll(() => api.bigCut(), { timeout: 5_000 }).toBe(true)

    // An endless loop in a test script: stopped with a message; the page answers meanwhile.
    await openRequest(page, 'Bad input', 'Loops')
    await page.getByTestId('send').click()
    await page.getByTestId('sending').waitFor()
    await new Promise((r) => setTimeout(r, 1_500)) // the loop is running now
    const started = Date.now()
    await page.locator('.request-editor > .tabs').getByRole('tab', { name: /Headers/ }).click()
    await page.getByTestId('header-rows').waitFor()
    expect(await page.evaluate(() => 6 * 7)).toBe(42)
    expect(Date.now() - started).toBeLessThan(2_500)
    const stopped = page.getByTestId('script-error')
    await stopped.waitFor({ timeout: 15_000 })
    expect(await stopped.textContent()).toMatch(/test script of the request: the script did not finish within 5 s and was stopped \(an endless loop\?\)/)
    // The response itself still shows, and so does the test that passed before the loop began.
    expect(await page.getByTestId('response-status').textContent()).toBe('200 OK')
    expect(await page.getByTestId('tests-count').textContent()).toBe('1/1')
    await d.shot('17-endless-loop')

    // The script sandbox cannot reach the app's storage, cookies, DOM or network.
    await openRequest(page, 'Bad input', 'Probe')
    await page.getByTestId('send').click()
    await page.locator('[data-testid=response-panel][data-phase=done]').waitFor()
    await page.getByTestId('response-panel').getByRole('tab', { name: /Tests/ }).click()
    const results = page.getByTestId('test-results').getByTestId('assertion')
    await until(async () => (await results.count()) === 5, 10_000, 'the probe tests')
    expect(await page.locator('[data-testid=test-results] [data-testid=assertion][data-passed=false]').allTextContents()).toEqual([])
    // The marks are really there for the app itself.
    expect(await page.evaluate(() => [localStorage.getItem('mark'), document.cookie.includes('MARK-4711')])).toEqual(['MARK-4711', true])

    // And the app still sends.
    await openRequest(page, 'Bad input', 'Fine')
    await page.getByTestId('send').click()
    await until(async () => (await page.getByTestId('response-status').textContent().catch(() => '')) === '200 OK', 10_000, 'a good response after all that')

    // The same in a run: every failure recorded, the run finishes.
    await treeItem(page, 'Bad input').click()
    await page.getByTestId('run-target').click()
    const result = page.locator('[data-testid=run][data-result=fail]')
    await result.waitFor({ timeout: 60_000 })
    await result.locator('.run-head').click()
    await result.getByTestId('executions').waitFor()
    const errorOf = (name: string) => result.locator(`[data-testid=execution][data-name="${name}"] [data-testid=execution-error]`).first().textContent()
    expect(await errorOf('Unreachable')).toMatch(/connection refused/)
    expect(await errorOf('Hangs')).toMatch(/within 3 s/)
    expect(await errorOf('Huge MARK-4711')).toMatch(/larger than the demo's limit/)
    expect(await errorOf('Loops')).toMatch(/did not finish within 5 s/)
    expect(await result.locator('[data-testid=execution][data-name=Fine] [data-testid=assertion][data-passed=true]').count()).toBe(1)
    expect(await result.getByTestId('run-totals').textContent()).toMatch(/^6 requests/)
    await d.shot('18-run-bad-input')

    // Another page in the same browser (the API's origin) cannot use the proxy, even holding a valid token:
    // the proxy sends no CORS headers, so the browser does not even send the request with the token.
    const token = await page.evaluate(async (base) => ((await (await fetch(`${base}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Bea', device: 'x' }) })).json()) as { token: string }).token, suite.web.url)
    const other = await d.context.newPage()
    await other.goto(`${api.url}/echo/other-page`)
    const viaProxy = async ({ base, token, target }: { base: string; token: string; target: string }) => {
      try {
        const res = await fetch(`${base}/proxy`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ method: 'GET', url: target, headers: [] }) })
        return `answered ${res.status}`
      } catch (e) {
        return `refused: ${(e as Error).name}`
      }
    }
    const args = { base: suite.web.url, token, target: `${api.url}/users/1` }
    expect(await other.evaluate(viaProxy, args)).toBe('refused: TypeError')
    // The same call from the demo's own page goes through.
    expect(await page.evaluate(viaProxy, args)).toBe('answered 200')
    await other.close()
    expect(d.errors).toEqual([])
  }, 150_000)
})
