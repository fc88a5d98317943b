/**
 * The demo web app end to end, in Chromium (playwright-core), against the real relay served with it by
 * examples/web/server.ts: two devices of one account through a relay outage and a conflict, a viewer
 * following live, encrypted variables, recovery on a second device, sessions, runs, sign-out/in, Postman
 * import and export. Screenshots of the main screens go to test-artifacts/web/.
 * Skips (loudly) without /usr/bin/chromium, unless APISYNC_REQUIRE_SERVICES=1, when it fails instead.
 */
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { type Device, type Site, browserSuite, FIXTURES, itemMenu, openRequest, signIn, submitDialog, treeItem, typeIn, until } from './helpers.js'

const suite = browserSuite()
const { run } = suite
const open = suite.open

const urlOf = (d: Device) => d.page.getByTestId('url-input').inputValue()
const scriptOf = (d: Device) => d.page.getByTestId('script-test').inputValue()
const conflictCount = async (d: Device) => Number(await d.page.getByTestId('conflict-count').textContent())

describe.skipIf(!run)('the demo web app', () => {
  test('two devices of one account: offline edits, script merge, URL conflict resolved once for both', async () => {
    const laptop = await open('laptop')
    await laptop.page.getByTestId('signin-form').waitFor()
    await laptop.shot('01-sign-in')
    await signIn(laptop, 'Alice', 'Laptop')
    await laptop.inState('in-sync')
    await until(async () => (await laptop.page.getByTestId('key-state').textContent()) === 'keys: ready', 15_000, 'account keys')

    // A collection with a request.
    await laptop.page.getByTestId('new-collection').click()
    await submitDialog(laptop.page, { Name: 'Shop API' })
    await laptop.page.getByTestId('new-request').click()
    await submitDialog(laptop.page, { Name: 'Login' })
    await laptop.page.getByTestId('url-input').fill('https://api.test/login')
    await laptop.page.getByTestId('url-input').press('Enter')
    await laptop.page.getByRole('tab', { name: 'Scripts' }).click()
    await typeIn(laptop.page.getByTestId('script-test'), "pm.test('ok')\n", 'end')
    await laptop.inState('in-sync')

    // The same account on a second device: the workspace arrives from the relay.
    const phone = await open('phone')
    await signIn(phone, 'Alice', 'Phone')
    await phone.inState('in-sync')
    await openRequest(phone.page, 'Shop API', 'Login')
    expect(await urlOf(phone)).toBe('https://api.test/login')
    await phone.page.getByRole('tab', { name: 'Scripts' }).click()
    expect(await scriptOf(phone)).toBe("pm.test('ok')\n")

    // The relay goes away. Both keep editing: the same URL, and the script at either end.
    await suite.web.stop()
    await laptop.inState('connecting')
    await phone.inState('connecting')
    await laptop.page.getByTestId('url-input').fill('https://api.test/v2/login')
    await laptop.page.getByTestId('url-input').press('Enter')
    await typeIn(laptop.page.getByTestId('script-test'), '// laptop', 'end')
    await phone.page.getByTestId('url-input').fill('https://api.test/auth/login')
    await phone.page.getByTestId('url-input').press('Enter')
    await typeIn(phone.page.getByTestId('script-test'), '// phone\n', 'start')
    await until(async () => Number(await laptop.page.getByTestId('sync-indicator').getAttribute('data-pending')) > 0, 5_000, 'pending changes')
    expect(await laptop.page.getByTestId('sync-indicator').getAttribute('data-state')).toBe('connecting')
    await laptop.shot('02-offline-pending')

    // The relay comes back: CONNECTING → SYNCING → IN SYNC, the scripts merge, the URL conflicts.
    await suite.web.restart()
    await laptop.inState('in-sync')
    await phone.inState('in-sync')
    for (const d of [laptop, phone]) {
      const states = await d.history()
      const outage = states.lastIndexOf('connecting')
      expect(outage, `${d.name}: ${states.join(' → ')}`).toBeGreaterThanOrEqual(0)
      const after = states.slice(outage)
      expect(after.indexOf('syncing'), `${d.name}: ${states.join(' → ')}`).toBeGreaterThan(0)
      expect(after.indexOf('in-sync'), `${d.name}: ${states.join(' → ')}`).toBeGreaterThan(after.indexOf('syncing'))
    }
    const merged = "// phone\npm.test('ok')\n// laptop"
    for (const d of [laptop, phone]) await until(async () => (await scriptOf(d)) === merged, 10_000, `${d.name}'s merged script`)

    for (const d of [laptop, phone]) {
      await until(async () => (await conflictCount(d)) === 1, 10_000, `${d.name}'s conflict`)
      const conflict = d.page.getByTestId('conflict')
      expect(await conflict.getAttribute('data-field')).toBe('url')
      expect((await conflict.getByTestId('alternative-value').allTextContents()).sort()).toEqual(['https://api.test/auth/login', 'https://api.test/v2/login'])
    }
    // Both devices show the same winner meanwhile.
    expect(await urlOf(laptop)).toBe(await urlOf(phone))
    await laptop.shot('03-conflict')

    // Resolved on the laptop (keeping the phone's URL): it closes on both.
    const phoneAlt = laptop.page.getByTestId('alternative').filter({ hasText: 'https://api.test/auth/login' })
    await phoneAlt.getByTestId('keep-alternative').click()
    for (const d of [laptop, phone]) {
      await until(async () => (await conflictCount(d)) === 0, 10_000, `${d.name}'s conflict to close`)
      await until(async () => (await urlOf(d)) === 'https://api.test/auth/login', 10_000, `${d.name}'s URL`)
    }
    await laptop.inState('in-sync')
    await laptop.shot('04-request-editor')
    expect([...laptop.errors, ...phone.errors]).toEqual([])
  }, 90_000)

  test('a second account shares the workspace as viewer: it follows live and cannot edit', async () => {
    const owner = await open('owner')
    await signIn(owner, 'Olga', 'Desk')
    await owner.inState('in-sync')
    await owner.page.getByTestId('new-collection').click()
    await submitDialog(owner.page, { Name: 'Pets API' })
    await owner.page.getByTestId('new-request').click()
    await submitDialog(owner.page, { Name: 'List pets' })
    await owner.page.getByTestId('url-input').fill('https://pets.test/pets')
    await owner.page.getByTestId('url-input').press('Enter')
    await owner.inState('in-sync')
    await owner.page.getByTestId('workspace-switcher').click()
    await owner.page.getByRole('menuitem', { name: 'Share this workspace…' }).click()
    const workspaceId = await owner.page.getByTestId('dialog').getByLabel('Workspace id').inputValue()
    await owner.page.keyboard.press('Escape')

    const viewer = await open('viewer')
    await signIn(viewer, 'Victor', 'Tablet')
    await viewer.inState('in-sync')
    await viewer.page.getByTestId('workspace-switcher').click()
    await viewer.page.getByRole('menuitem', { name: 'Join a shared workspace…' }).click()
    await submitDialog(viewer.page, { 'Workspace id': workspaceId })
    await viewer.page.getByTestId('viewer-badge').waitFor()
    await viewer.inState('in-sync')
    await openRequest(viewer.page, 'Pets API', 'List pets')
    expect(await urlOf(viewer)).toBe('https://pets.test/pets')

    // Nothing to edit with.
    expect(await viewer.page.getByTestId('url-input').isEditable()).toBe(false)
    expect(await viewer.page.getByTestId('request-name').isEditable()).toBe(false)
    await viewer.page.getByRole('tab', { name: 'Scripts' }).click()
    expect(await viewer.page.getByTestId('script-test').isEditable()).toBe(false)
    expect(await viewer.page.getByTestId('new-collection').count()).toBe(0)
    expect(await treeItem(viewer.page, 'List pets').getByTestId('item-menu').count()).toBe(0)
    expect(await treeItem(viewer.page, 'List pets').getAttribute('draggable')).toBe('false')

    // The owner's edits arrive live.
    await owner.page.getByTestId('url-input').fill('https://pets.test/v2/pets')
    await owner.page.getByTestId('url-input').press('Enter')
    await until(async () => (await urlOf(viewer)) === 'https://pets.test/v2/pets', 10_000, "the owner's URL on the viewer")
    await itemMenu(owner.page, 'List pets', 'Rename')
    await owner.page.getByTestId('rename-input').fill('All pets')
    await owner.page.getByTestId('rename-input').press('Enter')
    await treeItem(viewer.page, 'All pets').waitFor()
    await owner.page.getByRole('tab', { name: 'Scripts' }).click()
    await typeIn(owner.page.getByTestId('script-test'), 'pm.test("owner")', 'end')
    await until(async () => (await scriptOf(viewer)) === 'pm.test("owner")', 10_000, "the owner's script on the viewer")

    // A header preset applied to the request, and the request dragged into a new folder: the viewer follows.
    await owner.page.getByTestId('presets-item').click()
    await owner.page.getByTestId('new-preset').click()
    await submitDialog(owner.page, { Name: 'JSON API' })
    const preset = owner.page.locator('[data-testid=preset][data-name="JSON API"]')
    await preset.getByLabel('new key').fill('Accept')
    await preset.getByLabel('new key').press('Enter')
    await preset.getByLabel('value', { exact: true }).fill('application/json')
    await preset.getByLabel('value', { exact: true }).press('Enter')
    await openRequest(owner.page, 'Pets API', 'All pets')
    await owner.page.getByRole('tab', { name: 'Headers' }).click()
    await owner.page.getByTestId('apply-preset').selectOption({ label: 'JSON API (1)' })
    await viewer.page.getByRole('tab', { name: /Headers/ }).click()
    await until(async () => (await viewer.page.getByTestId('header-rows').getByLabel('value', { exact: true }).first().inputValue({ timeout: 500 }).catch(() => '')) === 'application/json', 10_000, 'the preset header on the viewer')
    await itemMenu(owner.page, 'Pets API', 'New folder')
    await submitDialog(owner.page, { Name: 'Cats' })
    await treeItem(owner.page, 'All pets').dragTo(treeItem(owner.page, 'Cats'))
    await until(async () => (await owner.page.locator('[data-testid=tree-item][data-name="All pets"]').getAttribute('style'))?.includes('padding-left:36px') ?? false, 10_000, 'the request in the folder')
    await treeItem(viewer.page, 'Cats').click()
    await until(async () => (await treeItem(viewer.page, 'All pets').getAttribute('style'))?.includes('padding-left:36px') ?? false, 10_000, 'the move on the viewer')
    await viewer.shot('05-viewer')
    // Deleting the folder takes the request along, on the viewer too.
    await itemMenu(owner.page, 'Cats', 'Delete')
    await submitDialog(owner.page)
    await treeItem(viewer.page, 'Cats').waitFor({ state: 'detached' })
    expect(await treeItem(viewer.page, 'All pets').count()).toBe(0)
    expect(await viewer.page.getByTestId('sync-indicator').getAttribute('data-state')).toBe('in-sync')

    // A viewer reads the Trash and the History, and restores nothing; the owner, on the same screens, can.
    await owner.inState('in-sync')
    const restoreButtons = '[data-testid=trash-restore], [data-testid=restore-field], [data-testid=restore-all], [data-testid=restore-item], [data-testid=restore-opened]'
    for (const d of [owner, viewer]) {
      await treeItem(d.page, 'Pets API').click()
      await d.page.getByTestId('collection-editor').getByTestId('open-trash').click()
      await until(async () => (await d.page.getByTestId('trash-item').count()) === 1, 10_000, `the deleted folder in the Trash (${d.name})`)
      expect(await d.page.getByTestId('trash-item').first().getAttribute('data-name')).toBe('Cats')
      const trashRestores = await d.page.getByTestId('trash-restore').count()
      await d.page.getByTestId('open-history').click()
      const oldest = d.page.getByTestId('version').last()
      await oldest.waitFor({ timeout: 15_000 })
      await oldest.getByTestId('pick-from').check()
      await d.page.locator(`[data-testid=comparison][data-from="${await oldest.getAttribute('data-seq')}"][data-to=live][data-state=ready]`).waitFor({ timeout: 15_000 })
      const compareRestores = await d.page.locator(restoreButtons).count()
      await oldest.getByTestId('version-view').click()
      await d.page.getByTestId('opened-version').getByTestId('item-preview').waitFor({ timeout: 15_000 })
      const openedRestores = await d.page.getByTestId('opened-version').getByTestId('restore-opened').count()
      expect([d.name, trashRestores, compareRestores, openedRestores]).toEqual(d === viewer ? [d.name, 0, 0, 0] : [d.name, 1, 1, 1])
    }
    expect([...owner.errors, ...viewer.errors]).toEqual([])
  }, 60_000)

  test('variables: shared values sealed before they sync, local values, masking; recovery and sessions on a second device', async () => {
    const laptop = await open('enc-laptop')
    await signIn(laptop, 'Erin', 'Laptop')
    await laptop.inState('in-sync')
    await until(async () => (await laptop.page.getByTestId('key-state').textContent()) === 'keys: ready', 15_000, 'account keys')
    await laptop.page.getByTestId('new-environment').click()
    await submitDialog(laptop.page, { Name: 'Staging' })
    await laptop.page.getByTestId('new-variable').fill('token')
    await laptop.page.getByTestId('new-variable').press('Enter')
    const row = laptop.page.locator('[data-testid=variable-row][data-key=token]')
    await row.getByLabel('type').selectOption('secret')
    const marker = `s3cret-${crypto.randomUUID()}`
    await row.getByTestId('shared-value').fill(marker)
    await row.getByTestId('shared-value').press('Enter')
    await row.getByTestId('local-value').fill('my-local-token')
    await row.getByTestId('local-value').press('Enter')
    // A secret's input is masked (a new input: drawn on the next frame).
    await row.locator('[data-testid=shared-value][type=password]').waitFor()
    await row.getByTestId('reveal').click()
    await row.locator('[data-testid=shared-value][type=text]').waitFor()
    // The value is sealed, then opened again for the view: asynchronous.
    await until(async () => (await row.getByTestId('shared-value').inputValue()) === marker, 10_000, 'the revealed value')
    await laptop.inState('in-sync')
    await laptop.shot('06-environment')

    // The relay's database holds the variable's name, never its value.
    const stored = await Promise.all((await readdir(suite.web.dataDir)).map((f) => readFile(join(suite.web.dataDir, f))))
    expect(stored.some((b) => b.includes('Staging'))).toBe(true)
    expect(stored.some((b) => b.includes(marker))).toBe(false)

    // A second device of the account: the value is locked until it recovers the key.
    const phone = await open('enc-phone')
    await signIn(phone, 'Erin', 'Phone')
    await phone.inState('in-sync')
    await phone.page.getByTestId('no-key-banner').waitFor()
    await phone.page.locator('[data-testid=environment-item][data-name=Staging]').click()
    const phoneRow = phone.page.locator('[data-testid=variable-row][data-key=token]')
    await phoneRow.getByTestId('locked-value').waitFor()
    expect(await phoneRow.getByTestId('local-value').inputValue()).toBe('')

    // Recovery: the laptop locks its key with a passphrase and stores it on the relay (PUT
    // /account/key-backup); the phone fetches it and opens it with the passphrase, not with a wrong one.
    await laptop.page.getByTestId('keys-item').click()
    await laptop.page.getByTestId('setup-recovery').click()
    await submitDialog(laptop.page, { Passphrase: 'correct horse battery', Again: 'correct horse battery' })
    await laptop.page.getByTestId('toast-info').filter({ hasText: 'Recovery is set' }).waitFor()
    await phone.page.getByTestId('keys-item').click()
    await phone.page.getByTestId('recover-key').click()
    const dialog = phone.page.getByTestId('dialog')
    await dialog.getByLabel('Recovery passphrase').fill('wrong passphrase')
    await dialog.getByTestId('dialog-submit').click()
    await dialog.getByTestId('dialog-error').waitFor()
    await dialog.getByLabel('Recovery passphrase').fill('correct horse battery')
    await dialog.getByTestId('dialog-submit').click()
    await dialog.waitFor({ state: 'detached' })
    await until(async () => (await phone.page.getByTestId('key-state').textContent()) === 'keys: ready', 10_000, 'recovered keys')
    await phone.page.locator('[data-testid=environment-item][data-name=Staging]').click()
    await phoneRow.getByTestId('reveal').click()
    await until(async () => (await phoneRow.getByTestId('shared-value').inputValue()) === marker, 10_000, 'the opened value on the phone')

    // Sessions: the laptop sees both devices and signs the phone out remotely.
    await laptop.page.getByTestId('sessions-item').click()
    await until(async () => (await laptop.page.getByTestId('session').count()) === 2, 10_000, 'two sessions')
    expect(await laptop.page.locator('[data-testid=session][data-current=true]').getAttribute('data-device')).toBe('Laptop')
    await laptop.shot('07-sessions')
    await laptop.page.locator('[data-testid=session][data-device=Phone]').getByTestId('revoke-session').click()
    await submitDialog(laptop.page) // a confirmation first
    await until(async () => (await laptop.page.getByTestId('session').count()) === 1, 10_000, 'the phone revoked')
    // The phone is signed out: its data is gone, and it says so (nothing was unsynced there).
    await phone.page.locator('[data-testid=ended-screen][data-reason=revoked][data-done=true]').waitFor()
    await phone.page.getByTestId('nothing-lost').waitFor()
    expect((await phone.page.evaluate(async () => (await indexedDB.databases()).map((x) => x.name ?? ''))).filter((n) => n.startsWith('apisync:'))).toEqual([])
    // Signing in again makes a new session; the phone syncs again.
    await phone.page.getByTestId('sign-in-again').click()
    await phone.inState('in-sync')
    expect([...laptop.errors, ...phone.errors]).toEqual([])
  }, 90_000)

  test('sign out then sign in restores the workspace; a corpus collection exports as imported; newman runs', async () => {
    const d = await open('porter')
    await signIn(d, 'Pat', 'Laptop')
    await d.inState('in-sync')
    const corpusFile = join(FIXTURES, 'postmanlabs__postman-collection__collection-v2.json')
    const chooser = d.page.waitForEvent('filechooser')
    await d.page.getByTestId('import').click()
    await (await chooser).setFiles(corpusFile)
    await treeItem(d.page, 'HTTP Status Messages').waitFor()

    // An environment: its values are sealed on import (the relay never sees them) and opened on export.
    const envFile = join(FIXTURES, 'transferwise__public-api-postman-collectio__Cards_API_Sandbox.postman_environment.json')
    const envChooser = d.page.waitForEvent('filechooser')
    await d.page.getByTestId('import').click()
    await (await envChooser).setFiles(envFile)
    await d.page.locator('[data-testid=environment-item][data-name="Cards API Sandbox (empty)"]').waitFor()
    await d.page.locator('[data-testid=variable-row][data-key=pci-host] [data-testid=shared-value]').waitFor()
    expect(await d.page.locator('[data-testid=variable-row][data-key=pci-host] [data-testid=shared-value]').inputValue()).toBe('https://twcard.sandbox.transferwise.tech')

    // A newman report: its collection comes along, and its run is listed with pass/fail.
    const reportChooser = d.page.waitForEvent('filechooser')
    await d.page.getByTestId('import').click()
    await (await reportChooser).setFiles(join(FIXTURES, 'postmanlabs__newman__sample-collection-report.json'))
    await d.page.getByTestId('runs-view').waitFor()
    await d.page.locator('[data-testid=run][data-result=pass]').waitFor()
    expect(await d.page.getByTestId('run').count()).toBe(1)
    expect(await d.page.getByTestId('runs-view').locator('.breadcrumb').textContent()).toContain('Sample Postman Collection')
    await d.page.locator('[data-testid=run] table.executions').waitFor()
    await d.shot('08-runs')
    await d.inState('in-sync')

    // Sign out: this browser forgets the account; signing in again brings the workspace back from the relay.
    await d.page.getByTestId('account-button').click()
    await d.page.getByTestId('sign-out').click()
    await submitDialog(d.page)
    await d.page.getByTestId('signin-form').waitFor()
    const databases = await d.page.evaluate(async () => (await indexedDB.databases()).map((x) => x.name ?? ''))
    expect(databases.filter((n) => n.startsWith('apisync:'))).toEqual([])
    await signIn(d, 'Pat', 'Laptop')
    await treeItem(d.page, 'HTTP Status Messages').waitFor()
    await treeItem(d.page, 'Sample Postman Collection').waitFor()
    await d.inState('in-sync')

    // Export the imported collection: the same JSON as the file.
    await treeItem(d.page, 'HTTP Status Messages').click()
    const download = d.page.waitForEvent('download')
    await d.page.getByTestId('export-collection').click()
    const exported = JSON.parse(await readFile((await (await download).path())!, 'utf8')) as unknown
    const original = JSON.parse((await readFile(corpusFile, 'utf8')).replace(/^\uFEFF/, '')) as unknown
    expect(exported).toEqual(original)
    await d.page.locator('[data-testid=environment-item][data-name="Cards API Sandbox (empty)"]').click()
    const envDownload = d.page.waitForEvent('download')
    await d.page.getByTestId('export-variables').click()
    const exportedEnv = JSON.parse(await readFile((await (await envDownload).path())!, 'utf8')) as unknown
    expect(exportedEnv).toEqual(JSON.parse(await readFile(envFile, 'utf8')))
    const stored = await Promise.all((await readdir(suite.web.dataDir)).map((f) => readFile(join(suite.web.dataDir, f))))
    expect(stored.some((b) => b.includes('Cards API Sandbox'))).toBe(true)
    expect(stored.some((b) => b.includes('twcard.sandbox.transferwise.tech'))).toBe(false)
    expect(d.errors).toEqual([])
  }, 60_000)

  test('the scratch pad works without an account, and moves into a workspace on sign-in, values sealed', async () => {
    const d = await open('scratch')
    await d.page.getByTestId('open-scratch').click()
    await d.page.getByTestId('scratch-banner').waitFor()
    expect(await d.page.getByTestId('sync-indicator').textContent()).toContain('LOCAL ONLY')
    await d.page.getByTestId('new-collection').click()
    await submitDialog(d.page, { Name: 'Draft API' })
    await d.page.getByTestId('new-request').click()
    await submitDialog(d.page, { Name: 'Ping' })
    await d.page.getByTestId('url-input').fill('https://draft.test/ping')
    await d.page.getByTestId('url-input').press('Enter')
    await d.page.getByTestId('new-environment').click()
    await submitDialog(d.page, { Name: 'Local' })
    const marker = `draft-${crypto.randomUUID()}`
    await d.page.getByTestId('new-variable').fill('apiKey')
    await d.page.getByTestId('new-variable').press('Enter')
    const row = d.page.locator('[data-testid=variable-row][data-key=apiKey]')
    await row.getByTestId('shared-value').fill(marker)
    await row.getByTestId('shared-value').press('Enter')
    await d.shot('09-scratch-pad')

    // Signing in offers to move the scratch pad into the account's workspace.
    await d.page.getByTestId('scratch-banner').getByRole('button', { name: 'Sign in' }).click()
    await submitDialog(d.page, { 'Your name': 'Sam', 'This device': 'Laptop' })
    await d.inState('in-sync')
    await until(async () => (await d.page.getByTestId('key-state').textContent()) === 'keys: ready', 15_000, 'account keys')
    await d.page.getByTestId('adopt-scratch').click()
    await d.page.getByTestId('adopt-banner').waitFor({ state: 'detached' })
    await treeItem(d.page, 'Draft API').waitFor()
    await d.page.locator('[data-testid=environment-item][data-name=Local]').click()
    await until(async () => (await row.getByTestId('shared-value').inputValue({ timeout: 500 }).catch(() => '')) === marker, 10_000, 'the adopted value')
    await d.inState('in-sync')
    const stored = await Promise.all((await readdir(suite.web.dataDir)).map((f) => readFile(join(suite.web.dataDir, f))))
    expect(stored.some((b) => b.includes('draft.test/ping'))).toBe(true)
    expect(stored.some((b) => b.includes(marker))).toBe(false)

    // Several accounts on one device, and the switcher between them.
    await d.page.getByTestId('account-button').click()
    await d.page.getByTestId('add-account').click()
    await submitDialog(d.page, { 'Your name': 'Tess', 'This device': 'Laptop' })
    await until(async () => (await d.page.getByTestId('workspace-title').textContent()) === "Tess's workspace", 10_000, "Tess's workspace")
    await d.page.getByTestId('account-button').click()
    await d.page.getByTestId('account-option').filter({ hasText: 'Sam' }).click()
    await until(async () => (await d.page.getByTestId('workspace-title').textContent()) === "Sam's workspace", 10_000, "back to Sam's workspace")
    await treeItem(d.page, 'Draft API').waitFor()
    await d.page.getByTestId('account-button').click()
    await d.shot('10-accounts')
    expect(d.errors).toEqual([])
  }, 60_000)
})
