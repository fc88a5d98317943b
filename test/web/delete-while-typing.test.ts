/**
 * Delete while typing, in the demo app (Chromium, real relay, two devices of one person): the Laptop types
 * into a request's test script while the Desktop deletes the folder holding it. The Laptop's editor keeps the
 * request and every character typed in view, under a banner naming who deleted it and from where; both
 * devices show one conflict card naming the request, its folder and both devices; Restore on the Laptop
 * brings the request (with everything typed) and its folder back on both. Screenshots in test-artifacts/web/.
 */
import { describe, expect, test } from 'vitest'
import { type Device, type Site, browserSuite, itemMenu, openRequest, signIn, submitDialog, treeItem, typeIn, until } from './helpers.js'

const suite = browserSuite()
const { run } = suite
const open = suite.open

const scriptOf = (d: Device) => d.page.getByTestId('script-test').inputValue()
const conflictCount = async (d: Device) => Number(await d.page.getByTestId('conflict-count').textContent())

describe.skipIf(!run)('delete while typing in the demo app', () => {
  test('the editor keeps what was typed; one conflict names the request, its folder and both devices; Restore brings it all back', async () => {
    const laptop = await open('laptop')
    await signIn(laptop, 'Alice', 'Laptop')
    await laptop.inState('in-sync')
    await laptop.page.getByTestId('new-collection').click()
    await submitDialog(laptop.page, { Name: 'Shop API' })
    await laptop.page.getByTestId('new-folder').click()
    await submitDialog(laptop.page, { Name: 'Auth' })
    await itemMenu(laptop.page, 'Auth', 'New request')
    await submitDialog(laptop.page, { Name: 'Login' })
    await laptop.page.getByTestId('request-editor').waitFor()
    await laptop.page.getByRole('tab', { name: 'Scripts' }).click()
    await typeIn(laptop.page.getByTestId('script-test'), "pm.test('ok')", 'end')
    await laptop.inState('in-sync')

    const desktop = await open('desktop')
    await signIn(desktop, 'Alice', 'Desktop')
    await desktop.inState('in-sync')
    await treeItem(desktop.page, 'Shop API').click()
    await treeItem(desktop.page, 'Auth').click()
    await openRequest(desktop.page, 'Shop API', 'Login')

    // The Laptop types; the Desktop deletes the folder meanwhile; the Laptop types on as the deletion arrives.
    await typeIn(laptop.page.getByTestId('script-test'), '\n// typed before', 'end')
    await itemMenu(desktop.page, 'Auth', 'Delete')
    await submitDialog(desktop.page)
    await typeIn(laptop.page.getByTestId('script-test'), '\n// typed while', 'end')
    await laptop.page.getByTestId('deleted-banner').waitFor()
    await typeIn(laptop.page.getByTestId('script-test'), '\n// typed after', 'end')
    const typed = "pm.test('ok')\n// typed before\n// typed while\n// typed after"
    expect(await scriptOf(laptop)).toBe(typed)
    await laptop.inState('in-sync')
    await desktop.inState('in-sync')

    // One conflict on each device, naming the request, its folder, and both devices.
    for (const d of [laptop, desktop]) {
      await until(async () => (await conflictCount(d)) === 1, 10_000, `${d.name}'s conflict`)
      const card = d.page.getByTestId('conflict')
      expect(await card.getAttribute('data-kind')).toBe('delete')
      const title = (await card.getByTestId('conflict-title').textContent()) ?? ''
      expect(title).toContain('Login, in Auth')
      const sides = await card.getByTestId('conflict-side').allTextContents()
      expect(sides.join(' | ')).toMatch(/deleted — you, on Desktop/)
      expect(sides.join(' | ')).toMatch(/edited — you, on Laptop/)
    }
    expect(await laptop.page.getByTestId('conflict-title').textContent()).toBe('Login, in Auth — deleted on Desktop, edited here')
    expect(await desktop.page.getByTestId('conflict-title').textContent()).toBe('Login, in Auth — deleted here, edited on Laptop')
    // The Laptop still shows the request and what was typed, with the banner.
    expect(await laptop.page.getByTestId('deleted-text').textContent()).toBe('Login, in Auth — deleted on Desktop, edited here')
    expect(await scriptOf(laptop)).toBe(typed)
    await laptop.shot('11-deleted-while-typing')
    await desktop.shot('12-deleted-while-typing-desktop')

    // Restore, on the Laptop: the request with everything typed, and its folder, back on both devices.
    await laptop.page.getByTestId('deleted-restore').click()
    for (const d of [laptop, desktop]) {
      await until(async () => (await conflictCount(d)) === 0, 10_000, `${d.name}'s conflict to close`)
      await treeItem(d.page, 'Auth').waitFor()
    }
    expect(await laptop.page.getByTestId('deleted-banner').count()).toBe(0)
    await openRequest(desktop.page, 'Shop API', 'Login')
    await desktop.page.getByRole('tab', { name: 'Scripts' }).click()
    await until(async () => (await scriptOf(desktop)) === typed, 10_000, "the Desktop's restored script")
    await laptop.inState('in-sync')
    await desktop.shot('13-restored')
    expect([...laptop.errors, ...desktop.errors]).toEqual([])
  }, 120_000)
})
