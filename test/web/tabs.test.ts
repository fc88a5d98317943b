/**
 * Many tabs, one device (issue #16), in Chromium: two tabs of one browser profile and a second profile as
 * another device, against the real relay served with the demo.
 *   - offline, an edit in one tab is in the other within 100 ms, and both count the same pending actions;
 *   - sign-out in one tab stops the other: what it holds unsynced goes into the backup, a write made there
 *     afterwards never reaches the relay and is offered as a backup; the backup restores on another device;
 *   - a storage failure (QuotaExceededError, injected with an init script): no success message, a clear
 *     error, the data exportable, and closing the tab asks first;
 *   - text typed in the URL field of a tab closed mid-typing is kept.
 * Screenshots in test-artifacts/web/. Skips loudly without Chromium (see helpers.ts).
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { decodeBackup } from '@apisync/client'
import { describe, expect, test } from 'vitest'
import { type Device, type Site, appStatus, browserSuite, collectionWithRequest, FIXTURES, openRequest, relayStored, signIn, submitDialog, tab, treeItem, until } from './helpers.js'

const suite = browserSuite()
const { run } = suite
const open = suite.open

type Apisync = {
  apisync: {
    view: { collections: Map<string, { model: { get(id: string): unknown; subscribe(f: () => void): () => void; updateItem(id: string, patch: object): void } }> } | null
    selection: { id?: string; collectionId?: string }
  }
}

describe.skipIf(!run)('tabs of one device', () => {
  test('offline, an edit in one tab is in the other within 100 ms; both count the same pending; online, one upload reaches the other device', async () => {
    const one = await open('tabs')
    await signIn(one, 'Tina', 'Laptop')
    await one.inState('in-sync')
    await collectionWithRequest(one.page, 'Pets', 'List pets', 'https://pets.test/pets')
    await one.inState('in-sync')
    const two = await tab(one)
    await two.page.getByTestId('workspace-title').waitFor()
    await openRequest(two.page, 'Pets', 'List pets')
    await two.inState('in-sync')
    const ids = await one.page.evaluate(() => {
      const s = (window as unknown as Apisync).apisync.selection
      return { collection: s.collectionId!, request: s.id! }
    })

    await one.context.setOffline(true)
    await one.inState('offline')
    // Tab 2 waits on its model (a hidden tab does not paint, but it holds the data at once); each tab takes
    // its own timestamp (performance.timeOrigin + now: one clock for the whole browser).
    const waiting = two.page.evaluate(
      ({ collection, request }) =>
        new Promise<number>((resolve) => {
          const model = (window as unknown as Apisync).apisync.view!.collections.get(collection)!.model
          const done = () => (model.get(request) as { url?: { raw?: string } } | undefined)?.url?.raw === 'https://pets.test/v2/pets'
          const off = model.subscribe(() => {
            if (done()) {
              off()
              resolve(performance.timeOrigin + performance.now())
            }
          })
        }),
      ids,
    )
    const sentAt = await one.page.evaluate(() => {
      const input = document.querySelector<HTMLInputElement>('[data-testid=url-input]')!
      input.focus()
      input.value = 'https://pets.test/v2/pets'
      const t = performance.timeOrigin + performance.now()
      input.dispatchEvent(new InputEvent('input', { bubbles: true }))
      return t
    })
    const latency = (await waiting) - sentAt
    console.log(`\n  offline cross-tab propagation (model to model, Chromium): ${latency.toFixed(1)} ms`)
    expect(latency).toBeLessThan(100)
    // And the other way: a rename in tab 2 shows in tab 1.
    await two.page.bringToFront()
    await two.page.getByTestId('request-name').fill('All pets')
    await one.page.bringToFront()
    await treeItem(one.page, 'All pets').waitFor({ timeout: 2_000 })
    // One number, one state, in both tabs.
    await until(async () => (await appStatus(one.page))?.pending === 2 && (await appStatus(two.page))?.pending === 2, 5_000, 'two pending in both tabs')
    expect(await appStatus(one.page)).toEqual(await appStatus(two.page))
    await one.page.bringToFront()
    await one.shot('30-tabs-offline-tab1')
    await two.shot('31-tabs-offline-tab2')

    await one.context.setOffline(false)
    await until(async () => (await appStatus(one.page))?.state === 'in-sync' && (await appStatus(two.page))?.state === 'in-sync', 20_000, 'both tabs in sync')
    const phone = await open('tabs-phone')
    await signIn(phone, 'Tina', 'Phone')
    await phone.inState('in-sync')
    await openRequest(phone.page, 'Pets', 'All pets')
    expect(await phone.page.getByTestId('url-input').inputValue()).toBe('https://pets.test/v2/pets')
    expect([...one.errors, ...two.errors, ...phone.errors]).toEqual([])
  }, 120_000)

  test('sign-out in one tab stops the other: its unsynced edit is in the backup, a later write never reaches the relay, the backup restores elsewhere', async () => {
    const one = await open('signout')
    await signIn(one, 'Sol', 'Laptop')
    await one.inState('in-sync')
    await collectionWithRequest(one.page, 'Shop', 'Cart', 'https://shop.test/cart')
    await one.inState('in-sync')
    const two = await tab(one)
    await openRequest(two.page, 'Shop', 'Cart')
    await two.inState('in-sync')
    const ids = await two.page.evaluate(() => {
      const s = (window as unknown as Apisync).apisync.selection
      return { collection: s.collectionId!, request: s.id! }
    })

    // Offline, tab 2 edits; tab 1 signs out (it warns, downloads the backup).
    await one.context.setOffline(true)
    const unsynced = `unsynced-${Date.now()}`
    await two.page.getByTestId('url-input').fill(`https://shop.test/${unsynced}`)
    await until(async () => (await appStatus(one.page))?.pending === 1, 5_000, 'the pending edit in tab 1')
    await one.page.bringToFront()
    await one.page.getByTestId('account-button').click()
    await one.page.getByTestId('sign-out').click()
    await one.page.getByTestId('dialog').getByTestId('dialog-submit').click()
    const dialog = one.page.getByTestId('dialog')
    await dialog.filter({ hasText: 'not on the relay yet' }).waitFor()
    const download = one.page.waitForEvent('download')
    await dialog.getByTestId('dialog-submit').click()
    const backup = decodeBackup(new Uint8Array(await readFile((await (await download).path())!)))
    expect(backup.docs.some((d) => Buffer.from(d.update).toString('latin1').includes(unsynced))).toBe(true)
    await one.page.getByTestId('signin-form').waitFor()

    // Tab 2 stopped at once, says why, and what it had is in the backup.
    await two.page.bringToFront()
    await two.page.locator('[data-testid=ended-screen][data-reason=signed-out][data-done=true]').waitFor()
    await two.page.getByTestId('ended-backup').waitFor()
    // A write made there afterwards (the editor's model is still in memory): stored nowhere, never sent…
    const late = `late-${Date.now()}`
    await two.page.evaluate(
      ({ collection, request, late }) => (window as unknown as Apisync).apisync.view!.collections.get(collection)!.model.updateItem(request, { url: { raw: `https://shop.test/${late}` } }),
      { ...ids, late },
    )
    await one.context.setOffline(false)
    // …offered as a backup of its own.
    await two.page.getByTestId('late-changes').waitFor()
    await two.shot('32-tabs-signed-out-elsewhere')
    const lateDownload = two.page.waitForEvent('download')
    await two.page.getByTestId('download-late').click()
    const lateBackup = decodeBackup(new Uint8Array(await readFile((await (await lateDownload).path())!)))
    expect(lateBackup.docs.some((d) => Buffer.from(d.update).toString('latin1').includes(late))).toBe(true)
    // Nothing of either reached the relay, online again for a while.
    await new Promise((r) => setTimeout(r, 2_000))
    const stored = await relayStored(suite.web.dataDir)
    expect(stored.includes(late)).toBe(false)
    expect(stored.includes(unsynced)).toBe(false)

    // Restoring the backup on another device: the change reaches the relay and that device.
    const other = await open('signout-other')
    await signIn(other, 'Sol', 'Desktop')
    await other.inState('in-sync')
    const chooser = other.page.waitForEvent('filechooser')
    await other.page.getByTestId('account-button').click()
    await other.page.getByTestId('import-backup').click()
    await (await chooser).setFiles((await (await download).path())!)
    await other.page.getByTestId('toast-info').filter({ hasText: 'Restored' }).waitFor()
    await other.inState('in-sync')
    await openRequest(other.page, 'Shop', 'Cart')
    expect(await other.page.getByTestId('url-input').inputValue()).toBe(`https://shop.test/${unsynced}`)
    await until(async () => (await relayStored(suite.web.dataDir)).includes(unsynced), 10_000, 'the restored change on the relay')
    await other.shot('33-backup-restored')
  }, 120_000)

  test('a storage failure: no success message, a clear error, the data exportable, and closing the tab asks first', async () => {
    const d = await open('quota', {
      // Writes to IndexedDB fail as a full disk would, once the test says so.
      initScript: () => {
        for (const method of ['add', 'put'] as const) {
          const original = IDBObjectStore.prototype[method]
          IDBObjectStore.prototype[method] = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['add']>) {
            if ((globalThis as { failWrites?: boolean }).failWrites) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError')
            return original.apply(this, args)
          }
        }
      },
    })
    await signIn(d, 'Quinn', 'Laptop')
    await d.inState('in-sync')
    await d.page.evaluate(() => ((globalThis as { failWrites?: boolean }).failWrites = true))
    const chooser = d.page.waitForEvent('filechooser')
    await d.page.getByTestId('import').click()
    await (await chooser).setFiles(join(FIXTURES, 'postmanlabs__postman-collection__collection-v2.json'))
    const dialog = d.page.getByTestId('dialog').filter({ hasText: 'Not saved in this browser' })
    await dialog.waitFor()
    expect(await dialog.textContent()).toContain('QuotaExceededError')
    expect(await d.page.getByTestId('toast-info').count()).toBe(0)
    await d.page.getByTestId('storage-banner').waitFor()
    await d.shot('34-storage-failure')
    const download = d.page.waitForEvent('download')
    await dialog.getByTestId('dialog-submit').click()
    const exported = decodeBackup(new Uint8Array(await readFile((await (await download).path())!)))
    expect(exported.docs.filter((x) => x.name.includes('/collection/')).some((x) => Buffer.from(x.update).toString('latin1').includes('HTTP Status Messages'))).toBe(true)
    // Closing the tab now would lose it: the browser asks first.
    const asked = new Promise<string>((resolve) => d.page.once('dialog', (dlg) => void dlg.dismiss().then(() => resolve(dlg.type()))))
    await d.page.close({ runBeforeUnload: true })
    expect(await asked).toBe('beforeunload')
  }, 90_000)

  test('text typed in the URL field is kept when the tab closes mid-typing', async () => {
    const d = await open('typing')
    await signIn(d, 'Tyra', 'Laptop')
    await d.inState('in-sync')
    await collectionWithRequest(d.page, 'Notes', 'Ping', 'https://a.test')
    await d.inState('in-sync')
    const typing = await tab(d)
    await openRequest(typing.page, 'Notes', 'Ping')
    await typing.page.getByTestId('url-input').click()
    await typing.page.getByTestId('url-input').press('End')
    await typing.page.getByTestId('url-input').pressSequentially('/typed-then-closed')
    // No Enter, no leaving the field: the tab just goes.
    await typing.page.close({ runBeforeUnload: false })
    await d.page.reload()
    await openRequest(d.page, 'Notes', 'Ping')
    expect(await d.page.getByTestId('url-input').inputValue()).toBe('https://a.test/typed-then-closed')
    await d.shot('35-typed-text-kept')
  }, 60_000)
})
