/**
 * No value in clear, over the demo's own flows (issue #10), driven in Chromium against the real relay served
 * with the app: the scratch pad (a collection with a secret variable, an environment, globals) moved into a
 * workspace on sign-in; a Postman collection with secret collection and folder variables, a Postman environment
 * and globals imported; environment and globals values edited. Every WebSocket frame the page sends and
 * receives, and the relay's SQLite file with its WAL (while it runs, and after it stopped), are searched for
 * each value: none is found, while the variables' names (which stay in clear) are. Also: the conflicts pane
 * masks secret values as the variables table does.
 * Skips (loudly) without /usr/bin/chromium, unless APISYNC_REQUIRE_SERVICES=1, when it fails instead.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { EnvironmentModel, WorkspaceModel, docName } from '@apisync/model'
import { type AccountKeys, addMember, generateAccountKeys, memoryTrustStore, publicKeysOf, safetyCode } from '@apisync/crypto'
import { CHROMIUM, type Device, type Site, available, device, required, signIn, site, submitDialog, treeItem, until } from './helpers.js'

const run = available || required
let web: Site
let files: string
const devices: Device[] = []

beforeAll(async () => {
  if (!run) return
  expect(available, `${CHROMIUM} is required (APISYNC_REQUIRE_SERVICES=1)`).toBe(true)
  web = await site()
  files = await mkdtemp(join(tmpdir(), 'apisync-web-files-'))
}, 90_000)

afterAll(async () => {
  await Promise.all(devices.splice(0).map((d) => d.close().catch(() => {})))
  await web?.close()
  if (files) await rm(files, { recursive: true, force: true })
})

const mark = (what: string) => `${what}-${crypto.randomUUID().replaceAll('-', '')}`
const disk = async () => Buffer.concat(await Promise.all((await readdir(web.dataDir)).map((f) => readFile(join(web.dataDir, f)))))

/** Sets a variable's shared value in the table shown (by its name), as a person types it. */
async function setShared(d: Device, key: string, value: string): Promise<void> {
  const row = d.page.locator(`[data-testid=variable-row][data-key="${key}"]`)
  await row.getByTestId('shared-value').fill(value)
  await row.getByTestId('shared-value').press('Enter')
}
/** The app's opened (decrypted) shared value of a global variable, as written in its doc. */
const openedGlobal = (d: Device, key: string): Promise<unknown> =>
  d.page.evaluate((k) => {
    type View = { globals: { name: string; model: { snapshot(): { variables: { id: string; key: string }[] } } } | null; opened: Map<string, Map<string, { value: unknown }>> }
    const view = (window as unknown as { apisync: { view: View | null } }).apisync.view
    const row = view?.globals?.model.snapshot().variables.find((v) => v.key === k)
    return row && view!.globals ? view!.opened.get(view!.globals.name)?.get(row.id)?.value : undefined
  }, key)
async function addVariable(d: Device, key: string, value: string, secret = false): Promise<void> {
  await d.page.getByTestId('new-variable').fill(key)
  await d.page.getByTestId('new-variable').press('Enter')
  const row = d.page.locator(`[data-testid=variable-row][data-key="${key}"]`)
  await row.waitFor().catch(async (e: unknown) => {
    await d.shot(`failed-${key.slice(0, 20)}`)
    const toasts = await d.page.locator('[data-testid^=toast]').allTextContents()
    throw new Error(`no row ${key}; toasts: ${JSON.stringify(toasts)}; errors: ${JSON.stringify(d.errors)}; ${String(e)}`)
  })
  if (secret) await row.getByLabel('type').selectOption('secret')
  await row.getByTestId('shared-value').waitFor()
  await setShared(d, key, value)
}
/** Waits until the page shows what was just opened (typing earlier would go to the page being replaced). */
async function showing(d: Device, what: 'globals' | { environment: string } | 'collection variables'): Promise<void> {
  if (what === 'globals') await d.page.locator('[data-testid=variables-editor] h1.title', { hasText: 'Globals' }).waitFor()
  else if (what === 'collection variables') await d.page.getByRole('tab', { name: /Variables/, selected: true }).waitFor()
  else await until(async () => (await d.page.getByTestId('environment-name').inputValue().catch(() => '')) === what.environment, 10_000, `environment ${what.environment}`)
}

async function importFile(d: Device, name: string, json: unknown): Promise<void> {
  const path = join(files, name)
  await writeFile(path, JSON.stringify(json))
  const chooser = d.page.waitForEvent('filechooser')
  await d.page.getByTestId('import').click()
  await (await chooser).setFiles(path)
}

describe.skipIf(!run)('the demo seals every value before it syncs', () => {
  test('frames, the SQLite file and its WAL hold no value in clear after imports, adoption and edits; conflicts mask secrets', async () => {
    const d = await device(web.url, 'sealing')
    devices.push(d)
    const frames: Buffer[] = []
    const capture = (payload: string | Buffer) => frames.push(typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload))
    d.page.on('websocket', (ws) => {
      ws.on('framesent', (f) => capture(f.payload))
      ws.on('framereceived', (f) => capture(f.payload))
    })
    const values: Record<string, string> = {}
    const names: string[] = []
    const name = (what: string) => {
      const n = mark(what)
      names.push(n)
      return n
    }

    // The scratch pad: a collection with a secret variable, an environment, globals. Local only.
    await d.page.getByTestId('open-scratch').click()
    await d.page.getByTestId('scratch-banner').waitFor()
    await d.page.getByTestId('new-collection').click()
    await submitDialog(d.page, { Name: 'Draft API' })
    await treeItem(d.page, 'Draft API').click()
    await d.page.getByRole('tab', { name: /Variables/ }).click()
    await showing(d, 'collection variables')
    const scratchSecret = name('scratchSecretName')
    await addVariable(d, scratchSecret, (values.scratchCollection = mark('scratch-collection-secret')), true)
    await d.page.getByTestId('new-environment').click()
    await submitDialog(d.page, { Name: 'Local' })
    await showing(d, { environment: 'Local' })
    await addVariable(d, name('scratchEnvName'), (values.scratchEnv = mark('scratch-env-value')))
    await d.page.getByTestId('globals-item').click()
    await showing(d, 'globals')
    await addVariable(d, name('scratchGlobalName'), (values.scratchGlobal = mark('scratch-global-value')))

    // Sign in; the scratch pad moves into the account's workspace, sealed.
    await d.page.getByTestId('scratch-banner').getByRole('button', { name: 'Sign in' }).click()
    await submitDialog(d.page, { 'Your name': 'Sealy', 'This device': 'Laptop' })
    await d.inState('in-sync')
    await until(async () => (await d.page.getByTestId('key-state').textContent()) === 'keys: ready', 20_000, 'account keys')
    await d.page.getByTestId('adopt-scratch').click()
    await d.page.getByTestId('adopt-banner').waitFor({ state: 'detached' })
    await treeItem(d.page, 'Draft API').waitFor()

    // A Postman collection with secret variables (its own and a folder's), an environment and globals.
    await importFile(d, 'sealed.postman_collection.json', {
      info: { name: 'Sealed Import', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' },
      variable: [
        { key: name('importedPlainName'), value: 'https://plain.example.test' },
        { key: name('importedSecretName'), value: (values.importedCollection = mark('imported-collection-secret')), type: 'secret' },
      ],
      item: [{ name: 'Admin', variable: [{ key: 'adminPw', value: (values.importedFolder = mark('imported-folder-secret')), type: 'secret' }], item: [{ name: 'ping', request: { method: 'GET', url: '{{base}}/ping' } }] }],
    })
    await treeItem(d.page, 'Sealed Import').waitFor()
    await importFile(d, 'sealed.postman_environment.json', {
      name: 'Imported env',
      values: [{ key: name('importedEnvName'), value: (values.importedEnv = mark('imported-env-value')), enabled: true }],
      _postman_variable_scope: 'environment',
    })
    await d.page.locator('[data-testid=environment-item][data-name="Imported env"]').waitFor()
    await importFile(d, 'sealed.postman_globals.json', {
      name: 'Globals',
      values: [{ key: name('importedGlobalName'), value: (values.importedGlobal = mark('imported-global-value')), enabled: true }],
      _postman_variable_scope: 'globals',
    })
    await d.page.locator(`[data-testid=variable-row][data-key="${names.at(-1)}"]`).waitFor()

    // Editing: a new environment's value, changed twice; a global; the adopted secret collection variable.
    await d.page.getByTestId('new-environment').click()
    await submitDialog(d.page, { Name: 'Staging' })
    await showing(d, { environment: 'Staging' })
    const stagingKey = name('stagingName')
    await addVariable(d, stagingKey, (values.envFirst = mark('env-first')))
    await setShared(d, stagingKey, (values.envSecond = mark('env-second')))
    await d.page.getByTestId('globals-item').click()
    await showing(d, 'globals')
    const globalKey = name('editedGlobalName')
    await addVariable(d, globalKey, (values.globalA = mark('global-a')), true)
    await treeItem(d.page, 'Draft API').click()
    await d.page.getByRole('tab', { name: /Variables/ }).click()
    await showing(d, 'collection variables')
    await setShared(d, scratchSecret, (values.collectionEdited = mark('collection-edited')))

    // Every value opens again here: the imports and the move kept them, sealed.
    await d.page.getByTestId('globals-item').click()
    await showing(d, 'globals')
    const globalRow = d.page.locator(`[data-testid=variable-row][data-key="${globalKey}"]`)
    await globalRow.getByTestId('reveal').click()
    await until(async () => (await globalRow.getByTestId('shared-value').inputValue()) === values.globalA, 10_000, 'the global opened')
    await d.inState('in-sync')

    // A conflict on the secret global: another device of the account (here a bare Yjs client with a token of
    // the same account) puts back an older sealed value while this one writes a new one.
    const account = (await (await fetch(`${web.url}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Sealy', device: 'Script' }) })).json()) as {
      token: string
      personalWorkspace: string
    }
    const other = new Y.Doc()
    const connectOther = () =>
      new WebsocketProvider(`${web.url.replace(/^http/, 'ws')}/sync`, docName({ workspaceId: account.personalWorkspace, kind: 'globals' }), other, {
        params: { token: account.token },
        WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
        disableBc: true,
      })
    let provider = connectOther()
    const globalOf = () => EnvironmentModel.openGlobals(other).snapshot().variables.find((v) => v.key === globalKey)
    await until(async () => typeof globalOf()?.value === 'string' && globalOf()!.type === 'secret', 15_000, 'the globals on the other client')
    const olderSealed = globalOf()!.value as string
    await setShared(d, globalKey, (values.globalB = mark('global-b')))
    await until(async () => globalOf()?.value !== olderSealed, 15_000, 'B on the other client')
    provider.destroy()
    await setShared(d, globalKey, (values.globalC = mark('global-c')))
    // Sealing is asynchronous: C must be written (and acked) before the other client's edit arrives, or the two are
    // not concurrent and there is no conflict to see.
    await until(async () => (await openedGlobal(d, globalKey)) === values.globalC, 10_000, 'C written on the device')
    await d.inState('in-sync')
    EnvironmentModel.openGlobals(other).updateRow('variables', globalOf()!.id, { value: olderSealed })
    provider = connectOther()
    await until(async () => Number(await d.page.getByTestId('conflict-count').textContent()) === 1, 15_000, 'the conflict')
    const conflict = d.page.getByTestId('conflict')
    await until(async () => (await conflict.getByTestId('alternative-value').count()) === 2, 10_000, 'two alternatives')
    const shown = await conflict.getByTestId('alternative-value').allTextContents()
    expect(shown).toEqual(['••••••••', '••••••••'])
    await d.shot('11-conflict-masked')
    await conflict.getByTestId('reveal-conflict').click()
    await until(async () => (await conflict.getByTestId('alternative-value').allTextContents()).sort().join() === [values.globalA, values.globalC].sort().join(), 10_000, 'the revealed alternatives')
    provider.destroy()
    other.destroy()

    // The members page lists this account as the owner, with its safety code.
    await d.page.getByTestId('members-item').click()
    await d.page.locator('[data-testid=member][data-role=owner]').waitFor()
    expect(await d.page.getByTestId('safety-code').first().textContent()).toBe(await d.page.getByTestId('my-safety-code').textContent())
    await d.shot('12-members')
    await d.inState('in-sync')

    // The search: frames as the page sent and received them; the database and its WAL, live and after a stop.
    const live = await disk()
    expect((await readdir(web.dataDir)).some((f) => f.endsWith('-wal'))).toBe(true)
    await web.stop()
    const stopped = await disk()
    await web.restart()
    const wire = Buffer.concat(frames)
    expect(frames.length).toBeGreaterThan(20)
    for (const n of names) {
      expect(wire.includes(n), `name ${n} on the wire`).toBe(true) // the search finds what is there
      expect(live.includes(n) || stopped.includes(n), `name ${n} on disk`).toBe(true)
    }
    for (const [what, value] of Object.entries(values)) {
      expect(wire.includes(value), `${what} on the wire`).toBe(false)
      expect(live.includes(value), `${what} in the live database or WAL`).toBe(false)
      expect(stopped.includes(value), `${what} in the stopped database`).toBe(false)
    }
    expect(d.errors).toEqual([])
  }, 180_000)

  test("a member's key change is a loud warning in the member list until someone compared the codes", async () => {
    const d = await device(web.url, 'members')
    devices.push(d)
    await d.page.getByTestId('signin-form').waitFor()
    await d.page.getByTestId('signin-form').getByLabel('Your name').fill('Kim')
    await d.page.getByTestId('signin-form').getByLabel('This device').fill('Laptop')
    await d.page.getByTestId('signin-submit').click()
    await d.inState('in-sync')
    await until(async () => (await d.page.getByTestId('key-state').textContent()) === 'keys: ready', 20_000, 'account keys')

    // Kim adds Bob with the member code Bob sent.
    const bob = await generateAccountKeys()
    const code = Buffer.from(JSON.stringify({ accountId: 'bob-account', name: 'Bob', keys: publicKeysOf(bob) })).toString('base64')
    await d.page.getByTestId('members-item').click()
    await d.page.getByTestId('add-member').click()
    await submitDialog(d.page, { 'Member code': code })
    const bobRow = d.page.locator('[data-testid=member][data-account=bob-account]')
    await bobRow.waitFor()
    expect(await bobRow.getByTestId('safety-code').textContent()).toBe(await safetyCode(bob))
    expect(await d.page.getByTestId('key-change-warning').count()).toBe(0)

    // Another device of Kim's (a script with Kim's keys) re-adds Bob with other keys: someone swapped them.
    const session = (await (await fetch(`${web.url}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Kim', device: 'Script' }) })).json()) as {
      token: string
      sub: string
      personalWorkspace: string
    }
    const keys = JSON.parse((await d.page.evaluate((id) => localStorage.getItem(`apisync-web:keys:${id}`), session.sub))!) as AccountKeys
    const doc = new Y.Doc()
    const provider = new WebsocketProvider(`${web.url.replace(/^http/, 'ws')}/sync`, docName({ workspaceId: session.personalWorkspace, kind: 'manifest' }), doc, {
      params: { token: session.token },
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      disableBc: true,
    })
    await until(async () => WorkspaceModel.open(doc).snapshot().members.length >= 2, 15_000, 'the manifest on the script')
    const swapped = await generateAccountKeys()
    await addMember({ manifest: WorkspaceModel.open(doc), workspaceId: session.personalWorkspace, me: { accountId: session.sub, keys }, trust: memoryTrustStore() }, { accountId: 'bob-account', name: 'Bob', keys: publicKeysOf(swapped) })

    const warning = d.page.locator('[data-testid=key-change-warning][data-account=bob-account]')
    await warning.waitFor({ timeout: 15_000 })
    expect(await warning.textContent()).toContain(`Bob's keys changed`)
    expect(await warning.textContent()).toContain(await safetyCode(swapped))
    await d.page.getByTestId('key-change-banner').waitFor()
    expect(await bobRow.getAttribute('class')).toContain('key-changed')
    // Kim's device started a new generation (the old one was held under Bob's old key), but not for Bob yet.
    expect(await bobRow.locator('td').nth(3).textContent()).toBe('waiting for an admin')
    await d.shot('13-key-change')
    await warning.getByTestId('accept-key-change').click()
    await warning.waitFor({ state: 'detached' })
    await d.page.getByTestId('key-change-banner').waitFor({ state: 'detached' })
    expect(await bobRow.getByTestId('safety-code').textContent()).toBe(await safetyCode(swapped))
    await until(async () => (await bobRow.locator('td').nth(3).textContent()) === 'yes', 10_000, 'the current key shared with Bob')
    provider.destroy()
    expect(d.errors).toEqual([])
  }, 90_000)
  test("the demo's token endorses the account's key: the first device is endorsed, a device holding other keys is warned", async () => {
    const laptop = await device(web.url, 'endorsed')
    devices.push(laptop)
    await signIn(laptop, 'Lee', 'Laptop')
    await until(async () => (await laptop.page.getByTestId('key-state').textContent()) === 'keys: ready', 20_000, 'account keys')
    const endorsement = (d: Device) => d.page.evaluate(() => (window as unknown as { apisync: { view: { ring: { endorsement: string } } | null } }).apisync.view?.ring.endorsement)
    await until(async () => (await endorsement(laptop)) === 'endorsed', 10_000, 'the laptop endorsed')
    expect(await laptop.page.getByTestId('token-key-mismatch-banner').count()).toBe(0)

    // The phone holds keys that are not the account's (made on their own, or slipped in): its own token says so.
    const phone = await device(web.url, 'not-endorsed')
    devices.push(phone)
    await signIn(phone, 'Lee', 'Phone')
    const accountId = await phone.page.evaluate(() => (window as unknown as { apisync: { account: { id: string } } }).apisync.account.id)
    const other: AccountKeys = await generateAccountKeys()
    await phone.page.evaluate(([id, keys]) => localStorage.setItem(`apisync-web:keys:${id}`, keys), [accountId, JSON.stringify(other)] as const)
    await phone.page.reload()
    const banner = phone.page.getByTestId('token-key-mismatch-banner')
    await banner.waitFor({ timeout: 20_000 })
    expect(await banner.textContent()).toMatch(/Your sign-in says your account's key is .*, but this device holds/)
    expect(await endorsement(phone)).toBe('mismatch')
    expect(await phone.page.getByTestId('members-item').textContent()).toContain('⚠')
    await phone.shot('13-token-key-mismatch')
    expect(laptop.errors).toEqual([])
    expect(phone.errors).toEqual([])
  }, 90_000)
})
