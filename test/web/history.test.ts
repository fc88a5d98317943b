/**
 * History in the demo app (issue #14), in Chromium against the real relay served with the demo, two accounts
 * of one workspace on two devices (Ann on her Laptop owns it; Bob on his Phone joined it as editor):
 *   - Trash: Bob deletes a folder with its requests; Ann's Trash lists it, with Bob's name and device, when
 *     and where it was; she opens it read-only and restores it; both see the folder and its requests back in
 *     place.
 *   - History panel: versions with their authors and devices and what changed in words; a diff between two
 *     versions and between a version and now; restoring a field, a request and the whole collection syncs to
 *     the other device, and Undo reverts it.
 *   - Activity: the workspace's changes newest first, who/device/doc/what, filtered by person and collection,
 *     paged with Load more.
 * Screenshots in test-artifacts/web/. Skips loudly without Chromium (see helpers.ts).
 */
import type { Page } from 'playwright-core'
import { describe, expect, test } from 'vitest'
import { type Device, browserSuite, itemMenu, openRequest, signIn, submitDialog, treeItem, until } from './helpers.js'

const suite = browserSuite()
const { run } = suite
const open = suite.open

/**
 * Ann's workspace with Bob in it as editor (and as a member of its keyring, so each device knows the other's
 * name). Each test has its own two people (the same name would be the same account, its keys on another device).
 */
async function annAndBob(prefix: string, annName: string, bobName: string): Promise<{ ann: Device; bob: Device }> {
  const [ann, bob] = await Promise.all([open(`${prefix}-ann`), open(`${prefix}-bob`)])
  await Promise.all([signIn(ann, annName, 'Laptop'), signIn(bob, bobName, 'Phone')])
  await Promise.all([ann.inState('in-sync'), bob.inState('in-sync')])
  // Bob's member code, pasted by Ann in the Share dialog; the workspace id from there.
  await bob.page.getByTestId('keys-item').click()
  const code = await bob.page.getByTestId('member-code').inputValue()
  await ann.page.getByTestId('workspace-switcher').click()
  await ann.page.getByRole('menuitem', { name: 'Share this workspace…' }).click()
  const workspaceId = await ann.page.getByTestId('dialog').getByLabel('Workspace id').inputValue()
  await submitDialog(ann.page, { 'Their member code (optional)': code })
  await bob.page.getByTestId('workspace-switcher').click()
  await bob.page.getByRole('menuitem', { name: 'Join a shared workspace…' }).click()
  const dialog = bob.page.getByTestId('dialog')
  await dialog.getByLabel('Workspace id').fill(workspaceId)
  await dialog.locator('select[name=role]').selectOption('editor')
  await dialog.getByTestId('dialog-submit').click()
  await dialog.waitFor({ state: 'detached' })
  // Joining signs in again with the new grant and opens the workspace: its manifest's name comes with its first
  // sync. (Once, on a loaded CI machine, this took more than 15 s: a failure now says what Bob saw.)
  await until(async () => (await bob.page.getByTestId('workspace-title').textContent()) === `${annName}'s workspace`, 30_000, "Bob in Ann's workspace").catch(async (e: unknown) => {
    await bob.shot(`failed-${prefix}-join`)
    throw new Error(`${String(e)}; ${await bob.report()}`)
  })
  await bob.inState('in-sync')
  return { ann, bob }
}

/** A request created in a folder (or at the top level) through the UI, with its URL. */
async function request(page: Page, name: string, url: string, folder?: string): Promise<void> {
  if (folder) await itemMenu(page, folder, 'New request')
  else await page.getByTestId('new-request').click()
  await submitDialog(page, { Name: name })
  await page.getByTestId('url-input').fill(url)
  await page.getByTestId('url-input').press('Enter')
}

async function shopApi(page: Page): Promise<void> {
  await page.getByTestId('new-collection').click()
  await submitDialog(page, { Name: 'Shop API' })
  await request(page, 'Health', 'https://shop.test/health')
  await treeItem(page, 'Shop API').click()
  await page.getByTestId('new-folder').click()
  await submitDialog(page, { Name: 'Auth' })
  await request(page, 'Login', 'https://shop.test/login', 'Auth')
  await request(page, 'Logout', 'https://shop.test/logout', 'Auth')
}

const urlOf = (d: Device) => d.page.getByTestId('url-input').inputValue()

describe.skipIf(!run)('Trash', () => {
  test('Bob deletes a folder with its requests; Ann finds it in the Trash with his name and device, opens it read-only and restores it where it was', async () => {
    const { ann, bob } = await annAndBob('trash', 'Ann', 'Bob')
    await shopApi(ann.page)
    await ann.inState('in-sync')
    await treeItem(bob.page, 'Shop API').click()
    await treeItem(bob.page, 'Auth').click()
    await treeItem(bob.page, 'Login').waitFor()

    // Bob deletes the folder (its two requests go with it).
    await itemMenu(bob.page, 'Auth', 'Delete')
    await submitDialog(bob.page)
    await bob.inState('in-sync')
    await until(async () => (await treeItem(ann.page, 'Auth').count()) === 0, 10_000, 'the folder gone on the Laptop')

    // Ann's Trash: the folder, who deleted it from where, when, where it was; what went with it.
    await treeItem(ann.page, 'Shop API').click()
    expect(await ann.page.getByTestId('open-trash').textContent()).toBe('Trash (1)')
    await ann.page.getByTestId('open-trash').click()
    const items = ann.page.getByTestId('trash-item')
    await until(async () => (await items.count()) === 1, 5_000, 'one entry in the Trash')
    const entry = items.first()
    expect(await entry.getAttribute('data-name')).toBe('Auth')
    expect(await entry.getAttribute('data-kind')).toBe('folder')
    expect(await entry.getByTestId('trash-along').textContent()).toBe(' with 2 requests')
    const meta = (await entry.getByTestId('trash-meta').textContent()) ?? ''
    expect(meta).toMatch(/^Deleted by Bob, on Phone · (just now|\d+ s ago) · was at the top level$/)
    // Bob's own Trash says it was deleted there.
    await treeItem(bob.page, 'Shop API').click()
    await bob.page.getByTestId('open-trash').click()
    expect(await bob.page.getByTestId('trash-meta').textContent()).toMatch(/^Deleted here · /)

    // Open: its last content, read-only (no field to type in).
    await entry.getByTestId('trash-open-item').click()
    const preview = ann.page.getByTestId('trash-open').getByTestId('item-preview')
    await preview.waitFor()
    expect(await preview.getByTestId('preview-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-name')))).toEqual(['Login', 'Logout'])
    expect(await preview.textContent()).toContain('https://shop.test/login')
    expect(await ann.page.getByTestId('trash-open').locator('input, textarea').count()).toBe(0)
    await ann.shot('60-trash')

    // Restore: back where it was, with both requests, on both devices; the Trash is empty again.
    await entry.getByTestId('trash-restore').click()
    await until(async () => (await items.count()) === 0, 5_000, 'the Trash emptied')
    for (const d of [ann, bob]) {
      await treeItem(d.page, 'Auth').waitFor({ timeout: 10_000 })
      if (!(await treeItem(d.page, 'Login').isVisible())) await treeItem(d.page, 'Auth').click()
      await treeItem(d.page, 'Logout').waitFor()
      // In place: the folder after Health, at the top level of Shop API, its requests inside it.
      const order = await d.page.locator('[data-testid=tree-item]').evaluateAll((els) => els.map((e) => `${e.getAttribute('aria-level')}:${e.getAttribute('data-name')}`))
      expect(order).toEqual(['1:Shop API', '2:Health', '2:Auth', '3:Login', '3:Logout'])
      expect(await d.page.getByTestId('trash-item').count()).toBe(0)
    }
    await openRequest(bob.page, 'Shop API', 'Login')
    expect(await urlOf(bob)).toBe('https://shop.test/login')
    await bob.shot('61-trash-restored')
    expect([...ann.errors, ...bob.errors]).toEqual([])
  }, 180_000)
})

/** The versions listed in a History panel, newest first: [authors, summary]. */
const versionRows = (page: Page) =>
  page.getByTestId('version').evaluateAll((els) => els.map((e) => [e.querySelector('[data-testid=version-authors]')?.textContent ?? '', e.querySelector('[data-testid=version-summary]')?.textContent ?? '']))

/** The changes a comparison lists: [kind, entity, name, field, before, after]. */
const changeRows = (page: Page) =>
  page
    .getByTestId('comparison')
    .getByTestId('change')
    .evaluateAll((els) =>
      els.map((e) => [
        e.getAttribute('data-kind'),
        e.getAttribute('data-entity'),
        e.getAttribute('data-name'),
        e.getAttribute('data-field'),
        e.querySelector('[data-testid=change-before]')?.textContent ?? null,
        e.querySelector('[data-testid=change-after]')?.textContent ?? null,
      ]),
    )

/** Waits until the comparison shown is the one of this pair (older seq, newer seq or `live`) and is computed. */
const compared = (page: Page, from: string | null, to: string | null) =>
  until(
    async () => (await page.locator(`[data-testid=comparison][data-from="${from}"][data-to="${to}"][data-state=ready]`).count()) === 1,
    15_000,
    `the comparison of ${from} and ${to}`,
  )

const versionLoaded = async (page: Page, count: number) => until(async () => (await page.getByTestId('version').count()) === count && !(await versionRows(page)).some(([, s]) => s === '…'), 15_000, `${count} versions with their summaries`)

describe.skipIf(!run)('History panel', () => {
  test('versions name their authors and devices; two versions or one and now compare in words; a field, a request and the whole collection restore on both devices, and Undo reverts each', async () => {
    const { ann, bob } = await annAndBob('history', 'Cleo', 'Dan')
    // v1 (Ann): the collection.
    await shopApi(ann.page)
    await ann.inState('in-sync')
    // v2 (Bob): Login's URL, Logout renamed, a new request Orders.
    await openRequest(bob.page, 'Shop API', 'Health')
    await treeItem(bob.page, 'Auth').click()
    await treeItem(bob.page, 'Login').click()
    await bob.page.getByTestId('url-input').fill('https://shop.test/v2/login')
    await bob.page.getByTestId('url-input').press('Enter')
    await itemMenu(bob.page, 'Logout', 'Rename')
    await bob.page.getByTestId('rename-input').fill('Sign out')
    await bob.page.getByTestId('rename-input').press('Enter')
    await treeItem(bob.page, 'Shop API').click()
    await request(bob.page, 'Orders', 'https://shop.test/orders')
    await bob.inState('in-sync')
    // v3 (Ann): Login's method.
    await openRequest(ann.page, 'Shop API', 'Login')
    await until(async () => (await urlOf(ann)) === 'https://shop.test/v2/login', 10_000, "Bob's URL on the Laptop")
    await ann.page.locator('.method-select').selectOption('POST')
    await ann.inState('in-sync')

    // Bob's History of the collection: three versions, newest first, with who and where.
    await treeItem(bob.page, 'Shop API').click()
    await bob.page.getByTestId('collection-editor').getByTestId('open-history').click()
    await versionLoaded(bob.page, 3)
    const rows = await versionRows(bob.page)
    expect(rows.map(([who]) => who)).toEqual(['Cleo, on Laptop', 'you, here', 'Cleo, on Laptop'])
    expect(rows[0]![1]).toMatch(/request/)
    expect(rows[1]![1]).toMatch(/request/)

    // v1 → v2: exactly what Bob did.
    const version = (i: number) => bob.page.getByTestId('version').nth(i)
    await version(2).getByTestId('pick-from').check()
    await version(1).getByTestId('pick-to').check()
    // A pick re-renders on the next frame: until then the panel still shows the comparison before it (v1 → now).
    await compared(bob.page, await version(2).getAttribute('data-seq'), await version(1).getAttribute('data-seq'))
    const v1v2 = await changeRows(bob.page)
    expect(v1v2).toContainEqual(['changed', 'request', 'Login', 'url', 'https://shop.test/login', 'https://shop.test/v2/login'])
    expect(v1v2).toContainEqual(['renamed', 'request', 'Sign out', 'name', null, null])
    expect(v1v2).toContainEqual(['added', 'request', 'Orders', '', null, null])
    expect(v1v2.filter(([, , , field]) => field === 'method')).toEqual([])
    expect(await bob.page.getByTestId('comparison').getByText('Request “Logout” renamed to “Sign out”').count()).toBe(1)
    // Not against now: nothing to restore from here.
    expect(await bob.page.getByTestId('restore-field').count()).toBe(0)

    // v1 → now: Ann's method too; restore Login's URL as in v1 (one field), on both devices; Undo.
    await bob.page.getByTestId('version-now').getByTestId('pick-to').check()
    await compared(bob.page, await version(2).getAttribute('data-seq'), 'live')
    expect(await changeRows(bob.page)).toContainEqual(['changed', 'request', 'Login', 'method', 'GET', 'POST'])
    await bob.shot('62-history-compare')
    const urlChange = bob.page.locator('[data-testid=comparison] [data-testid=change][data-field=url]')
    await urlChange.getByTestId('restore-field').click()
    await bob.page.getByTestId('restore-banner').waitFor()
    await until(async () => (await urlOf(ann)) === 'https://shop.test/login', 10_000, 'the restored URL on the Laptop')
    expect(await ann.page.locator('.method-select').inputValue()).toBe('POST') // one field only
    await bob.page.getByTestId('restore-undo').click()
    await until(async () => (await urlOf(ann)) === 'https://shop.test/v2/login', 10_000, 'the undone restore on the Laptop')
    await bob.inState('in-sync')

    // The whole collection as in v1, from the version opened: Orders goes, Sign out is Logout again, Login as it was.
    // (New versions appear on top as they are made: the first is the last row.)
    await bob.page.getByTestId('version').last().getByTestId('version-view').click()
    const opened = bob.page.getByTestId('opened-version')
    await opened.getByTestId('item-preview').waitFor()
    expect(await opened.getByTestId('preview-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-name')))).toEqual(['Health', 'Auth', 'Login', 'Logout'])
    await opened.getByTestId('restore-opened').click()
    await until(async () => (await treeItem(ann.page, 'Orders').count()) === 0, 10_000, 'Orders gone on the Laptop')
    await treeItem(ann.page, 'Logout').waitFor()
    await until(async () => (await urlOf(ann)) === 'https://shop.test/login' && (await ann.page.locator('.method-select').inputValue()) === 'GET', 10_000, 'Login as in v1 on the Laptop')
    await ann.shot('63-history-restored-all')
    await bob.page.getByTestId('restore-undo').click()
    await treeItem(ann.page, 'Orders').waitFor({ timeout: 10_000 })
    await treeItem(ann.page, 'Sign out').waitFor()
    await until(async () => (await urlOf(ann)) === 'https://shop.test/v2/login' && (await ann.page.locator('.method-select').inputValue()) === 'POST', 10_000, 'the undone restore-all on the Laptop')
    await bob.inState('in-sync')

    // A request's History (Ann, on Login): only the versions that touched it; its first version restored.
    await ann.page.getByTestId('request-editor').getByTestId('open-history').click()
    await until(async () => !(await versionRows(ann.page)).some(([, s]) => s === '…') && (await ann.page.getByTestId('version').count()) >= 3, 15_000, "Login's versions")
    const loginRows = await versionRows(ann.page)
    expect(loginRows.slice(-3).map(([who]) => who)).toEqual(['you, here', 'Dan, on Phone', 'you, here'])
    expect(loginRows.every(([, s]) => s !== 'no change to it')).toBe(true)
    await ann.page.getByTestId('version').last().getByTestId('version-view').click()
    await ann.page.getByTestId('opened-version').getByTestId('preview-url').waitFor()
    expect(await ann.page.getByTestId('opened-version').getByTestId('preview-url').textContent()).toBe('https://shop.test/login')
    await ann.page.getByTestId('opened-version').getByTestId('restore-opened').click()
    await openRequest(bob.page, 'Shop API', 'Login')
    await until(async () => (await urlOf(bob)) === 'https://shop.test/login' && (await bob.page.locator('.method-select').inputValue()) === 'GET', 10_000, 'Login as first written, on the Phone')
    expect(await treeItem(bob.page, 'Orders').count()).toBe(1) // the request only
    await ann.shot('64-request-history')
    expect([...ann.errors, ...bob.errors]).toEqual([])
  }, 240_000)
})

describe.skipIf(!run)('Activity feed', () => {
  test('newest first, who/device/doc/what; filtered by person and by collection; Load more; summaries only for entries in view', async () => {
    const { ann, bob } = await annAndBob('activity', 'Eve', 'Finn')
    await shopApi(ann.page)
    await ann.page.getByTestId('new-collection').click()
    await submitDialog(ann.page, { Name: 'Billing' })
    await request(ann.page, 'Invoices', 'https://billing.test/invoices')
    await ann.inState('in-sync')
    // Turns: each device's edit after the other's is a version of its own.
    await openRequest(bob.page, 'Shop API', 'Health')
    await openRequest(ann.page, 'Shop API', 'Health')
    for (let i = 1; i <= 8; i++) {
      for (const d of [bob, ann]) {
        await d.page.getByTestId('url-input').fill(`https://shop.test/health?${d.name}=${i}`)
        await d.page.getByTestId('url-input').press('Enter')
        await d.inState('in-sync')
        // The other device edits after it has this edit: turns, not concurrent edits.
        const other = d === bob ? ann : bob
        await until(async () => (await other.page.getByTestId('url-input').inputValue()) === `https://shop.test/health?${d.name}=${i}`, 10_000, `${d.name}'s edit ${i} on the other device`)
      }
    }
    await openRequest(bob.page, 'Billing', 'Invoices')
    await bob.page.getByTestId('url-input').fill('https://billing.test/v2/invoices')
    await bob.page.getByTestId('url-input').press('Enter')
    await bob.inState('in-sync')

    await ann.page.getByTestId('activity-item').click()
    const entries = ann.page.getByTestId('activity-entry')
    await until(async () => (await entries.count()) > 0, 15_000, 'the feed')
    // Newest first: Bob's edit of Billing, said in words.
    const first = entries.first()
    expect(await first.getByTestId('activity-who').textContent()).toBe('Finn, on Phone')
    expect(await first.getByTestId('activity-doc').textContent()).toBe('Billing')
    await until(async () => (await first.getAttribute('data-summary')) === 'ready', 10_000, 'the first summary')
    expect(await first.getByTestId('activity-what').textContent()).toMatch(/request/)
    const page1 = await entries.count()
    expect(page1).toBeGreaterThan(10)
    const ats = async () => entries.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-at'))))
    // Load more: the next page, still newest first; an entry far below has no summary until it is scrolled to.
    await ann.page.getByTestId('activity-more').click()
    await until(async () => (await entries.count()) > page1, 15_000, 'the next page')
    const times = await ats()
    expect(times).toEqual([...times].sort((a, b) => b - a))
    const keys = await entries.evaluateAll((els) => els.map((e) => e.getAttribute('data-key')))
    expect(new Set(keys).size).toBe(keys.length)
    const last = entries.last()
    expect(await last.getAttribute('data-summary')).toBe('pending')
    await last.scrollIntoViewIfNeeded()
    await until(async () => (await last.getAttribute('data-summary')) === 'ready', 10_000, 'the summary of the entry scrolled to')
    await ann.shot('65-activity')

    // By person: only Bob's; by collection: only Billing's.
    await ann.page.getByTestId('activity-person').selectOption({ label: 'Finn' })
    await until(async () => (await entries.count()) > 0 && (await entries.getByTestId('activity-who').allTextContents()).every((w) => w === 'Finn, on Phone'), 15_000, "Bob's entries only")
    expect(await entries.count()).toBeGreaterThanOrEqual(9)
    await ann.page.getByTestId('activity-person').selectOption({ label: 'Everyone' })
    await ann.page.getByTestId('activity-collection').selectOption({ label: 'Billing' })
    await until(async () => {
      const docs = await entries.getByTestId('activity-doc').allTextContents()
      return docs.length >= 2 && docs.every((d) => d === 'Billing')
    }, 15_000, "Billing's entries only")
    const whos = await entries.getByTestId('activity-who').allTextContents()
    expect(whos).toContain('Finn, on Phone')
    expect(whos).toContain('you, here')
    expect([...ann.errors, ...bob.errors]).toEqual([])
  }, 240_000)
})
