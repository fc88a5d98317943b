/**
 * Offline-first to the edges (issue #12), in Chromium against the real relay served with the demo:
 *   - the app starts offline after one online visit (service worker), an edit made then syncs once back;
 *   - a revoked device deletes the account's data, keeping unacked changes as a backup it offers, restored
 *     after signing in again;
 *   - signing out ends the session on the relay (the other device's list no longer shows it);
 *   - typing a URL counts as one pending action;
 *   - a device refused by the device limit says so and lists the sessions it may sign out;
 *   - the smaller items: the preset picker's prompt, the scratch pad after a reload, workspaces following
 *     the account, Markdown descriptions, tree tooltips, no empty conflicts pane, the avatar's initial.
 * Screenshots in test-artifacts/web/. Skips loudly without Chromium (see helpers.ts).
 */
import { createHash } from 'node:crypto'
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeBackup } from '@apisync/client'
import { describe, expect, test } from 'vitest'
import { type Device, type Site, appStatus, browserSuite, site, builtApp, collectionWithRequest, openRequest, relayStored, signIn, submitDialog, treeItem, until } from './helpers.js'

const suite = browserSuite()
const { run } = suite
const open = (name: string, on?: Site) => suite.open(name, undefined, on)

describe.skipIf(!run)('offline-first to the edges', () => {
  test('the app starts offline after one online visit; an edit made offline syncs when the network is back', async () => {
    const d = await open('offline-start')
    await signIn(d, 'Olive', 'Laptop')
    await d.inState('in-sync')
    await collectionWithRequest(d.page, 'Weather', 'Today', 'https://weather.test/today')
    await d.inState('in-sync')
    // The app shell is installed and controls the page.
    await d.page.waitForFunction(() => navigator.serviceWorker?.controller !== null, undefined, { timeout: 30_000 })
    await until(async () => (await d.page.evaluate(async () => (await caches.keys()).length)) > 0, 15_000, 'the precache')

    // No network at all: the server is gone and the browser is offline.
    await suite.web.stop()
    await d.context.setOffline(true)
    await d.page.reload()
    await treeItem(d.page, 'Weather').waitFor()
    await d.inState('offline')
    expect(await d.page.getByTestId('workspace-title').textContent()).toBe("Olive's workspace")
    await openRequest(d.page, 'Weather', 'Today')
    await d.page.getByTestId('url-input').fill('https://weather.test/tomorrow')
    await until(async () => (await appStatus(d.page))?.pending === 1, 5_000, 'the offline edit pending')
    await d.shot('40-offline-start')
    // Nothing the relay answers was cached: its routes fail offline instead of answering from a cache.
    const cached = await d.page.evaluate(async () => {
      const urls: string[] = []
      for (const name of await caches.keys()) for (const r of await (await caches.open(name)).keys()) urls.push(new URL(r.url).pathname)
      return urls
    })
    expect(cached.filter((u) => /^\/(sync|dev|sessions|account)/.test(u))).toEqual([])
    expect(cached).toContain('/index.html')

    await suite.web.restart()
    await d.context.setOffline(false)
    await d.inState('in-sync', 30_000)
    const phone = await open('offline-start-phone')
    await signIn(phone, 'Olive', 'Phone')
    await phone.inState('in-sync')
    await openRequest(phone.page, 'Weather', 'Today')
    expect(await phone.page.getByTestId('url-input').inputValue()).toBe('https://weather.test/tomorrow')
  }, 120_000)

  test('the app shell moves to a new build once it is served, without losing what is being typed; the worker caches only the build', async () => {
    // A build of our own to change: a copy of the shared one, served by a site of its own.
    const build = await mkdtemp(join(tmpdir(), 'apisync-web-next-build-'))
    await cp(await builtApp(), build, { recursive: true })
    const own = await site({ outDir: build })
    try {
      const d = await open('app-update', own)
      await signIn(d, 'Nora', 'Laptop')
      await d.inState('in-sync')
      await collectionWithRequest(d.page, 'Billing', 'Invoices', 'https://billing.test/invoices')
      await d.page.waitForFunction(() => navigator.serviceWorker?.controller !== null, undefined, { timeout: 30_000 })
      await until(async () => (await d.page.evaluate(async () => (await caches.keys()).length)) > 0, 15_000, 'the precache')
      // Use what talks to the relay over HTTP: tokens (sign-in), the session list, the key backup.
      await d.page.getByTestId('sessions-item').click()
      await d.page.locator('[data-testid=session][data-device=Laptop]').waitFor()
      expect(await d.page.evaluate(() => fetch('./healthz').then((r) => r.status))).toBe(200)
      expect(await d.page.evaluate(() => fetch('./account/key-backup').then((r) => r.status))).toBe(401)
      const precached = async () => [...(await readFile(join(build, 'sw.js'), 'utf8')).matchAll(/url:"([^"]+)"/g)].map((m) => `/${m[1]}`)
      const cachedNow = () =>
        d.page.evaluate(async () => {
          const urls: string[] = []
          for (const name of await caches.keys()) for (const r of await (await caches.open(name)).keys()) urls.push(new URL(r.url).pathname)
          return urls.sort()
        })
      const first = await precached()
      // Everything the worker cached is a file of the build (its precache list), nothing the relay answered.
      const cachedBefore = await cachedNow()
      expect(cachedBefore.length).toBeGreaterThan(3)
      expect(cachedBefore.filter((u) => !first.includes(u))).toEqual([])

      // Work in progress: a URL being typed (stored as typed) and a dialog with a name typed in it.
      await openRequest(d.page, 'Billing', 'Invoices')
      await d.page.getByTestId('url-input').fill('https://billing.test/invoices?status=open')
      await until(async () => (await appStatus(d.page))?.pending === 0, 15_000, 'the URL edit synced')
      await d.page.getByTestId('new-collection').click()
      await d.page.getByTestId('dialog').getByLabel('Name', { exact: true }).fill('Drafts')

      // The next build is served: a changed app bundle (new hashed name), index.html and the worker's list.
      const html = await readFile(join(build, 'index.html'), 'utf8')
      const main = /assets\/(main-[\w-]+)\.js/.exec(html)![1]!
      const next = `${main}-next`
      await writeFile(join(build, 'assets', `${next}.js`), `${await readFile(join(build, 'assets', `${main}.js`), 'utf8')}\n;globalThis.apisyncBuild = 'next'\n`)
      const nextHtml = html.replace(`assets/${main}.js`, `assets/${next}.js`).replace('<title>apisync</title>', '<title>apisync (next)</title>')
      await writeFile(join(build, 'index.html'), nextHtml)
      const revision = createHash('md5').update(nextHtml).digest('hex')
      const sw = await readFile(join(build, 'sw.js'), 'utf8')
      const nextSw = sw.replace(`assets/${main}.js`, `assets/${next}.js`).replace(/(url:"index\.html",revision:")[0-9a-f]+/, `$1${revision}`)
      expect(nextSw).not.toBe(sw)
      await writeFile(join(build, 'sw.js'), nextSw)

      // The page notices when the network comes back (and every half hour, and when the tab is shown again).
      await d.context.setOffline(true)
      await d.context.setOffline(false)
      await d.page.getByText('A new version of the app is ready').waitFor({ timeout: 30_000 })
      // It does not reload under an open dialog: the name typed there is still there a while later.
      await new Promise((r) => setTimeout(r, 4_000))
      expect(await d.page.getByTestId('dialog').getByLabel('Name', { exact: true }).inputValue()).toBe('Drafts')
      expect(await d.page.title()).toBe('apisync')
      await d.page.getByTestId('dialog').getByTestId('dialog-submit').click()
      // Once the dialog is done (and stored), the app moves to the new build.
      await until(async () => (await d.page.evaluate(() => (globalThis as { apisyncBuild?: string }).apisyncBuild).catch(() => undefined)) === 'next', 30_000, 'the new build')
      expect(await d.page.title()).toBe('apisync (next)')
      await treeItem(d.page, 'Drafts').waitFor()
      await d.inState('in-sync', 30_000)
      await openRequest(d.page, 'Billing', 'Invoices')
      expect(await d.page.getByTestId('url-input').inputValue()).toBe('https://billing.test/invoices?status=open')
      await d.shot('47-app-updated')
      // The worker now holds the new build and only it: the old bundle is gone from its cache.
      const second = await precached()
      const cachedAfter = await cachedNow()
      expect(cachedAfter).toContain(`/assets/${next}.js`)
      expect(cachedAfter).not.toContain(`/assets/${main}.js`)
      expect(cachedAfter.filter((u) => !second.includes(u))).toEqual([])
      expect(d.errors).toEqual([])
    } finally {
      await suite.closeDevices()
      await own.close()
      await rm(build, { recursive: true, force: true })
    }
  }, 150_000)

  test('a revoked device deletes the account’s data, keeps its unacked change as a backup it offers, and restores it', async () => {
    const laptop = await open('revoked-laptop')
    await signIn(laptop, 'Rex', 'Laptop')
    await laptop.inState('in-sync')
    await collectionWithRequest(laptop.page, 'Orders', 'Create order', 'https://shop.test/orders')
    await laptop.inState('in-sync')
    const phone = await open('revoked-phone')
    await signIn(phone, 'Rex', 'Phone')
    await phone.inState('in-sync')

    // The laptop edits offline; the phone signs it out meanwhile.
    await laptop.context.setOffline(true)
    const marker = `unacked-${Date.now()}`
    await laptop.page.getByTestId('url-input').fill(`https://shop.test/${marker}`)
    await until(async () => (await appStatus(laptop.page))?.pending === 1, 5_000, 'the laptop’s pending edit')
    await phone.page.getByTestId('sessions-item').click()
    await phone.page.locator('[data-testid=session][data-device=Laptop]').getByTestId('revoke-session').click()
    await submitDialog(phone.page)
    await until(async () => (await phone.page.getByTestId('session').count()) === 1, 10_000, 'the laptop gone from the list')
    await laptop.context.setOffline(false)

    // The laptop learns it on reconnecting: its data is deleted, the unacked change is kept and offered.
    await laptop.page.locator('[data-testid=ended-screen][data-reason=revoked][data-done=true]').waitFor({ timeout: 20_000 })
    await laptop.page.getByTestId('ended-backup').filter({ hasText: '1 change was not on the relay yet' }).waitFor()
    expect((await laptop.page.evaluate(async () => (await indexedDB.databases()).map((x) => x.name ?? ''))).filter((n) => n.startsWith('apisync:'))).toEqual([])
    await laptop.shot('41-revoked')
    const download = laptop.page.waitForEvent('download')
    await laptop.page.getByTestId('download-kept').click()
    const backup = decodeBackup(new Uint8Array(await readFile((await (await download).path())!)))
    expect(backup.docs.some((x) => Buffer.from(x.update).toString('latin1').includes(marker))).toBe(true)
    expect(await relayStored(suite.web.dataDir)).not.toContain(marker)

    // Signing in again: the kept backup is offered; restoring it syncs it to the phone.
    await laptop.page.getByTestId('sign-in-again').click()
    await laptop.page.getByTestId('kept-backup').waitFor()
    await laptop.shot('42-restore-offered')
    await laptop.page.getByTestId('restore-kept').click()
    await laptop.page.getByTestId('kept-backup').waitFor({ state: 'detached' })
    await laptop.inState('in-sync')
    await openRequest(phone.page, 'Orders', 'Create order')
    await until(async () => (await phone.page.getByTestId('url-input').inputValue()) === `https://shop.test/${marker}`, 10_000, 'the restored change on the phone')
  }, 120_000)

  test('signing out ends the session on the relay: the other device no longer lists it', async () => {
    const laptop = await open('signout-laptop')
    await signIn(laptop, 'Sam', 'Laptop')
    await laptop.inState('in-sync')
    const phone = await open('signout-phone')
    await signIn(phone, 'Sam', 'Phone')
    await phone.inState('in-sync')
    await phone.page.getByTestId('sessions-item').click()
    await until(async () => (await phone.page.getByTestId('session').count()) === 2, 10_000, 'two sessions')
    await laptop.page.getByTestId('account-button').click()
    await laptop.page.getByTestId('sign-out').click()
    await submitDialog(laptop.page)
    await laptop.page.getByTestId('signin-form').waitFor()
    // The phone's list refreshes by itself.
    await until(async () => (await phone.page.getByTestId('session').count()) === 1, 15_000, 'the laptop’s session gone')
    expect(await phone.page.locator('[data-testid=session]').getAttribute('data-device')).toBe('Phone')
    await phone.shot('43-sessions-after-sign-out')
  }, 60_000)

  test('typing a URL is one pending action', async () => {
    const d = await open('pending-one')
    await signIn(d, 'Pia', 'Laptop')
    await d.inState('in-sync')
    await collectionWithRequest(d.page, 'Books', 'Search', 'https://books.test')
    await d.inState('in-sync')
    await d.context.setOffline(true)
    await d.inState('offline')
    await d.page.getByTestId('url-input').click()
    await d.page.getByTestId('url-input').press('End')
    await d.page.getByTestId('url-input').pressSequentially('/search?q=offline+first', { delay: 40 })
    const pendingNow = () => d.page.getByTestId('sync-indicator').getAttribute('data-pending')
    await until(async () => (await pendingNow()) === '1', 5_000, 'one pending')
    await new Promise((r) => setTimeout(r, 300))
    expect(await d.page.getByTestId('sync-indicator').getAttribute('data-pending')).toBe('1')
    await d.shot('44-one-pending-for-a-typed-url')
    // Another field is another action.
    await d.page.getByTestId('request-name').fill('Search books')
    await until(async () => (await d.page.getByTestId('sync-indicator').getAttribute('data-pending')) === '2', 5_000, 'two pending')
    await d.context.setOffline(false)
    await d.inState('in-sync')
    expect(await d.page.getByTestId('sync-indicator').getAttribute('data-pending')).toBe('0')
  }, 60_000)

  test('a device refused by the device limit says so and lists the sessions it may sign out', async () => {
    const small = await site({ maxDevices: 1 })
    try {
      const desk = await open('limit-desk', small)
      await signIn(desk, 'Lena', 'Desk')
      await desk.inState('in-sync')
      const tablet = await open('limit-tablet', small)
      await signIn(tablet, 'Lena', 'Tablet')
      await tablet.page.getByTestId('device-limit-screen').waitFor()
      await tablet.page.locator('[data-testid=limit-session][data-device=Desk]').waitFor()
      expect(await tablet.page.getByTestId('workspace-title').textContent()).not.toBe('Untitled workspace')
      await tablet.shot('45-device-limit')
      // Signing the desk out lets the tablet in at once, in the same page (no reload: the mark stays).
      await tablet.page.evaluate(() => ((window as unknown as { samePage: boolean }).samePage = true))
      await tablet.page.locator('[data-testid=limit-session][data-device=Desk]').getByTestId('revoke-session').click()
      await submitDialog(tablet.page)
      await tablet.inState('in-sync')
      await until(async () => (await tablet.page.getByTestId('workspace-title').textContent()) === "Lena's workspace", 10_000, 'the workspace')
      expect(await tablet.page.evaluate(() => (window as unknown as { samePage?: boolean }).samePage)).toBe(true)
      await desk.page.locator('[data-testid=ended-screen][data-reason=revoked]').waitFor()

      // The desk signs in again: refused in turn while the tablet is connected. It keeps trying by itself
      // (the screen stays), and gets in once the tablet has gone, with nothing clicked.
      await desk.page.getByTestId('sign-in-again').click()
      await desk.page.getByTestId('device-limit-screen').waitFor()
      await desk.page.evaluate(() => ((window as unknown as { samePage: boolean }).samePage = true))
      await tablet.close()
      await desk.page.getByTestId('device-limit-screen').waitFor({ state: 'detached', timeout: 30_000 })
      await desk.inState('in-sync')
      expect(await desk.page.getByTestId('workspace-title').textContent()).toBe("Lena's workspace")
      expect(await desk.page.evaluate(() => (window as unknown as { samePage?: boolean }).samePage)).toBe(true)
      expect(desk.errors).toEqual([])
    } finally {
      await suite.closeDevices()
      await small.close()
    }
  }, 90_000)

  test('the smaller items: preset prompt, scratch pad after reload, workspaces follow the account, Markdown, tooltips, no empty conflicts pane, avatars', async () => {
    // The scratch pad is reopened after a reload.
    const d = await open('small')
    await d.page.getByTestId('open-scratch').click()
    await d.page.getByTestId('scratch-banner').waitFor()
    await d.page.reload()
    await d.page.getByTestId('scratch-banner').waitFor()

    await d.page.getByTestId('scratch-banner').getByRole('button', { name: 'Sign in' }).click()
    await submitDialog(d.page, { 'Your name': 'Mia Wong', 'This device': 'Laptop' })
    await d.inState('in-sync')
    // No conflicts: no pane taking room.
    expect(await d.page.getByTestId('conflicts-pane').count()).toBe(0)
    await collectionWithRequest(d.page, 'A collection with a name far too long to fit in the sidebar of the app', 'Get', 'https://x.test')
    // Tree names are cut, with the whole name as a tooltip.
    expect(await treeItem(d.page, 'A collection with a name far too long to fit in the sidebar of the app').getAttribute('title')).toBe('A collection with a name far too long to fit in the sidebar of the app')
    // Descriptions are rendered Markdown (raw HTML stays text).
    await d.page.getByRole('tab', { name: 'Docs' }).click()
    await d.page.getByTestId('description-edit').click()
    await d.page.getByTestId('description-text').pressSequentially('# Usage\n\nCall it **twice**. <img src=x onerror=alert(1)>')
    await d.page.getByTestId('description-done').click()
    const rendered = d.page.getByTestId('description-rendered')
    expect(await rendered.locator('h1').textContent()).toBe('Usage')
    expect(await rendered.locator('strong').textContent()).toBe('twice')
    expect(await rendered.locator('img').count()).toBe(0)
    await d.shot('46-markdown')

    // The preset picker shows its prompt, before and after applying a preset.
    await d.page.getByTestId('presets-item').click()
    await d.page.getByTestId('new-preset').click()
    await submitDialog(d.page, { Name: 'JSON' })
    const preset = d.page.locator('[data-testid=preset][data-name=JSON]')
    await preset.getByLabel('new key').fill('Accept')
    await preset.getByLabel('new key').press('Enter')
    await treeItem(d.page, 'Get').click()
    await d.page.getByRole('tab', { name: 'Headers' }).click()
    const picker = d.page.getByTestId('apply-preset')
    const shown = () => picker.evaluate((s: HTMLSelectElement) => s.options[s.selectedIndex]?.text ?? '')
    expect(await shown()).toBe('Add headers from a preset…')
    await picker.selectOption({ label: 'JSON (1)' })
    await until(async () => (await d.page.getByTestId('header-rows').getByLabel('key', { exact: true }).count()) === 1, 5_000, 'the preset applied')
    expect(await shown()).toBe('Add headers from a preset…')

    // Workspaces joined on one device are there on the next: the account's directory.
    const owner = await open('small-owner')
    await signIn(owner, 'Omar', 'Desk')
    await owner.inState('in-sync')
    await owner.page.getByTestId('workspace-switcher').click()
    await owner.page.getByRole('menuitem', { name: 'Share this workspace…' }).click()
    const shared = await owner.page.getByTestId('dialog').getByLabel('Workspace id').inputValue()
    await owner.page.keyboard.press('Escape')
    await d.page.getByTestId('workspace-switcher').click()
    await d.page.getByRole('menuitem', { name: 'Join a shared workspace…' }).click()
    await submitDialog(d.page, { 'Workspace id': shared })
    await d.page.getByTestId('viewer-badge').waitFor()
    await d.inState('in-sync')
    const second = await open('small-second')
    await signIn(second, 'Mia Wong', 'Phone')
    await second.inState('in-sync')
    await second.page.getByTestId('workspace-switcher').click()
    const menu = second.page.getByTestId('context-menu')
    await until(async () => (await menu.getByRole('menuitem').allTextContents()).some((t) => t.includes('viewer')), 15_000, 'the joined workspace on the second device')
    await second.page.keyboard.press('Escape')

    // Another account's avatar shows its person's initial, not its device's.
    await d.page.getByTestId('account-button').click()
    await d.page.getByTestId('add-account').click()
    await submitDialog(d.page, { 'Your name': 'Zed', 'This device': 'Laptop' })
    await d.inState('in-sync')
    await d.page.getByTestId('account-button').click()
    const mia = d.page.getByTestId('account-option').filter({ hasText: 'Mia Wong' })
    expect(await mia.locator('.avatar').textContent()).toBe('MW')
    await d.shot('47-accounts-avatars')
    expect([...d.errors, ...second.errors, ...owner.errors]).toEqual([])
  }, 150_000)
})
