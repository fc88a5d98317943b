/**
 * Accounts on one device against a real relay: sign-out that never drops unacked changes silently (refused,
 * or forced with a backup), sign-in that restores or merges, accounts kept apart, the scratch pad adopted.
 */
import { PendingChangesError, accountPrefix, decodeBackup } from '@apisync/client'
import { afterEach, expect, test } from 'vitest'
import { device, relay, until } from './helpers.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})
const later = <T extends { close(): Promise<void> }>(x: T): T => (cleanups.push(() => x.close()), x)
const ws = { w1: 'owner' } as const
const names = async (idb: IDBFactory) => (await idb.databases()).map((d) => d.name!).sort()

test('sign-out is refused while changes are pending; forced, it returns a backup that restores them elsewhere', async () => {
  const r = later(await relay())
  const a = later(device({ relayUrl: r.url, sub: 'alice', sid: 'a1', ws }))
  const account = await a.signIn()
  const w = await account.createWorkspace('w1', { name: 'Team' })
  const col = await w.createCollection({ name: 'API' })
  await account.whenInSync()

  await r.stop()
  const req = col.model.createRequest({ name: 'unsent', method: 'DELETE' })
  await col.whenStored()
  // The edit is in a doc that is closed by now: pending counts it from storage.
  await w.close()
  expect(await account.pendingChanges()).toBe(1)
  const refusal = await a.signOut('alice').catch((e: unknown) => e)
  expect(refusal).toBeInstanceOf(PendingChangesError)
  expect((refusal as PendingChangesError).pending).toBe(1)
  expect((await names(a.idb)).filter((n) => n.startsWith(accountPrefix('alice')))).not.toEqual([])

  const { backup, deleted } = await a.signOut('alice', { force: true })
  expect(backup).not.toBeNull()
  expect(decodeBackup(backup!).docs.map((d) => d.name)).toEqual([`w1/collection/${col.model.id}`])
  expect(deleted.length).toBeGreaterThan(0)
  expect((await names(a.idb)).filter((n) => n.startsWith(accountPrefix('alice')))).toEqual([])
  expect(a.getSnapshot().accounts).toEqual([])

  // On another device, importing the backup puts the change back, and it syncs.
  await r.restart()
  const b = later(device({ relayUrl: r.url, sub: 'alice', sid: 'a2', ws }))
  const again = await b.signIn()
  expect(await again.importBackup(backup!)).toEqual([`w1/collection/${col.model.id}`])
  await again.whenInSync()
  const c = later(device({ relayUrl: r.url, sub: 'alice', sid: 'a3', ws }))
  const wc = await (await c.signIn()).openWorkspace('w1')
  const colC = await wc.collection(col.model.id)
  await colC.whenInSync()
  expect(colC.model.get(req)?.name).toBe('unsent')
})

test('sign-out with everything acked deletes exactly that account’s databases', async () => {
  const r = later(await relay())
  const a = later(device({ relayUrl: r.url, sub: 'alice', sid: 'a1', ws: { w1: 'owner', shared: 'editor' } }))
  const alice = await a.signIn()
  await (await alice.createWorkspace('w1', { name: 'A' })).createCollection({ name: 'x' })
  await alice.whenInSync()
  // A second account on the same device, with an id that starts like the first (signing in switches to it).
  const bobClient = a
  const bob = await bobClient.signIn(await (await import('./helpers.js')).token('alice:2', 'b1', { shared: 'owner' }))
  const wb = await bob.createWorkspace('shared', { name: 'B' })
  await wb.createEnvironment({ name: 'env' })
  await bob.whenInSync()
  const before = await names(a.idb)

  const { backup, deleted } = await a.signOut('alice')
  expect(backup).toBeNull()
  const after = await names(a.idb)
  expect(after.filter((n) => n.startsWith(accountPrefix('alice')))).toEqual([])
  expect(before.filter((n) => !after.includes(n)).sort()).toEqual([...deleted].sort())
  // Bob's databases are all still there, and his workspace still works.
  expect(after.filter((n) => n.startsWith(accountPrefix('alice:2')))).toEqual(before.filter((n) => n.startsWith(accountPrefix('alice:2'))))
  expect(after.filter((n) => n.startsWith(accountPrefix('alice:2')))).toEqual([
    `${accountPrefix('alice:2')}shared/environment/${(await wb.manifest.model.snapshot()).environments[0]!.docId}`,
    `${accountPrefix('alice:2')}shared/manifest`,
  ])
  wb.manifest.model.update({ name: 'B2' })
  await wb.manifest.whenInSync()
  expect(a.getSnapshot()).toMatchObject({ accounts: [{ id: 'alice:2' }] })
})

test('two accounts on one device are isolated; switching keeps both signed in and closes the other’s docs', async () => {
  const r = later(await relay())
  const { token } = await import('./helpers.js')
  const d = later(device({ relayUrl: r.url, sub: 'alice', sid: 'a1', ws: { w1: 'owner' } }))
  await d.signIn()
  const bobFirst = await d.signIn(await token('bob', 'b1', { w1: 'editor' }))
  expect(d.getSnapshot()).toMatchObject({ currentAccountId: 'bob', accounts: [{ id: 'alice' }, { id: 'bob' }] })
  const alice = await d.switchAccount('alice')
  expect(d.getSnapshot().currentAccountId).toBe('alice')
  expect((await d.current())?.id).toBe('alice')
  // Switching away stopped Bob's docs: that instance is closed; asking for the account again opens it anew.
  await expect(bobFirst.openWorkspace('w1')).rejects.toMatchObject({ code: 'CLOSED' })
  const bob = await d.account('bob')

  // Same workspace id, separate local copies: Alice's offline edit is not in Bob's local data.
  const wa = await alice.createWorkspace('w1', { name: 'Team' })
  await wa.manifest.whenInSync()
  await r.stop()
  wa.manifest.model.update({ name: 'alice offline' })
  await wa.manifest.whenStored()
  const wb = await bob.openWorkspace('w1')
  expect(wb.manifest.model.snapshot().name).not.toBe('alice offline')
  expect(d.getSnapshot().accounts.map((x) => x.id)).toEqual(['alice', 'bob'])
  const dbs = await names(d.idb)
  expect(dbs).toContain(`${accountPrefix('alice')}w1/manifest`)
  expect(dbs).toContain(`${accountPrefix('bob')}w1/manifest`)
})

test('sign-in on a new device restores everything from the relay', async () => {
  const r = later(await relay())
  const a = later(device({ relayUrl: r.url, sub: 'alice', sid: 'a1', ws }))
  const account = await a.signIn()
  const w = await account.createWorkspace('w1', { name: 'Team' })
  const col = await w.createCollection({ name: 'API' })
  const folder = col.model.createFolder({ name: 'users' })
  col.model.createRequest({ name: 'get', method: 'GET', url: { raw: '{{base}}/users' } }, { parent: folder })
  const env = await w.createEnvironment({ name: 'prod', variables: [{ key: 'base', value: 'https://api' }] })
  await account.whenInSync()

  const b = later(device({ relayUrl: r.url, sub: 'alice', sid: 'a2', ws }))
  const restored = await (await b.signIn()).openWorkspace('w1')
  expect(restored.manifest.model.snapshot().collections).toEqual([]) // nothing local yet
  await restored.manifest.whenInSync()
  const docs = await restored.openAll()
  await Promise.all(docs.map((d) => d.whenInSync()))
  expect((await restored.collection(col.model.id)).model.snapshot().items).toEqual(col.model.snapshot().items)
  expect((await restored.environment(env.model.id)).model.snapshot().variables).toEqual(env.model.snapshot().variables)
})

test('sign-in where local data exists merges it with the relay’s, never replaces it', async () => {
  const r = later(await relay())
  const laptop = later(device({ relayUrl: r.url, sub: 'alice', sid: 'laptop', ws }))
  const acc = await laptop.signIn()
  const w = await acc.createWorkspace('w1', { name: 'Team' })
  const col = await w.createCollection({ name: 'API' })
  await acc.whenInSync()
  await r.stop()
  const offline = col.model.createRequest({ name: 'made offline' })
  await col.whenStored()
  await laptop.close()

  // Meanwhile, another device adds something.
  await r.restart()
  const phone = later(device({ relayUrl: r.url, sub: 'alice', sid: 'phone', ws }))
  const colPhone = await (await (await phone.signIn()).openWorkspace('w1')).collection(col.model.id)
  await colPhone.whenInSync()
  const online = colPhone.model.createRequest({ name: 'made on phone' })
  await colPhone.whenInSync()

  // The laptop's app starts again (same IndexedDB), signs in again: both requests.
  const reopened = later(device({ relayUrl: r.url, sub: 'alice', sid: 'laptop', ws, indexedDB: laptop.idb }))
  expect(reopened.getSnapshot().loaded).toBe(false)
  const again = await reopened.signIn()
  const col2 = await (await again.openWorkspace('w1')).collection(col.model.id)
  expect(col2.model.get(offline)?.name).toBe('made offline') // local data, at once
  expect(col2.status.getSnapshot().pending).toBe(1)
  await col2.whenInSync()
  await until(col2.status, () => col2.model.get(online) !== undefined)
  expect(col2.model.snapshot().items.map((i) => i.name).sort()).toEqual(['made offline', 'made on phone'])
})

test('scratch pad: works with no account and never connects; adopted into a workspace with its ids, it syncs', async () => {
  const r = later(await relay())
  const d = later(device({ relayUrl: r.url, sub: 'alice', sid: 'a1', ws }))
  const scratch = await d.scratchPad()
  const col = await scratch.createCollection({ name: 'Tryout' })
  const req = col.model.createRequest({ name: 'ping', method: 'GET', url: { raw: '{{host}}/ping' } })
  const env = await scratch.createEnvironment({ name: 'local' })
  const varId = env.model.addRow('variables', { key: 'host', value: 'http://localhost:3000' })
  ;(await scratch.localValues(env)).set(varId, 'http://127.0.0.1:9999')
  const globals = await scratch.globals()
  const gId = globals.model.addRow('variables', { key: 'token', value: 'abc' })
  await Promise.all([col.whenStored(), env.whenStored(), globals.whenStored()])
  // Created, then a request: two local changes, never sent anywhere.
  expect(col.status.getSnapshot()).toMatchObject({ state: 'offline', pending: 2 })
  expect(r.running.relay.stats().connections).toBe(0)

  const account = await d.signIn()
  const team = await account.createWorkspace('w1', { name: 'Team' })
  const adopted = await account.adoptScratchPad('w1')
  expect(adopted).toEqual({ collections: [col.model.id], environments: [env.model.id] })
  await account.whenInSync()
  expect((await names(d.idb)).filter((n) => n.startsWith('apisync-scratch:'))).toEqual([])

  const other = later(device({ relayUrl: r.url, sub: 'alice', sid: 'a2', ws }))
  const w = await (await other.signIn()).openWorkspace('w1')
  await w.manifest.whenInSync()
  expect(w.manifest.model.snapshot().collections.map((c) => c.docId)).toEqual([col.model.id])
  const colThere = await w.collection(col.model.id)
  await colThere.whenInSync()
  expect(colThere.model.get(req)).toMatchObject({ name: 'ping', id: req })
  const g = await w.globals()
  await g.whenInSync()
  expect(g.model.snapshot().variables.map((v) => [v.id, v.key])).toEqual([[gId, 'token']])
  // Local values moved with the adoption on this device, and were never sent.
  const here = await team.environment(env.model.id)
  expect((await team.localValues(here)).get(varId)).toBe('http://127.0.0.1:9999')
  const envThere = await w.environment(env.model.id)
  await envThere.whenInSync()
  expect((await w.localValues(envThere)).get(varId)).toBeUndefined()
  expect((await w.variables({ collectionId: col.model.id, environmentId: env.model.id })).get('host')?.value).toBe('http://localhost:3000')
  expect((await team.variables({ environmentId: env.model.id })).get('host')).toMatchObject({ value: 'http://127.0.0.1:9999', local: true })

  // The scratch pad starts empty again.
  const fresh = await d.scratchPad()
  expect(fresh.manifest.model.snapshot().collections).toEqual([])
})

test('workspaces joined on one device are listed on the next: the account’s directory syncs through its own space', async () => {
  const r = later(await relay())
  const { accountSpaceId: relaySpace } = await import('@apisync/relay')
  const { accountSpaceId, directoryDocName } = await import('@apisync/client')
  expect(await accountSpaceId('alice')).toBe(relaySpace('alice'))
  expect(await directoryDocName('alice')).toBe(`${relaySpace('alice')}/account`)

  const a = later(device({ relayUrl: r.url, sub: 'alice', sid: 'a1', ws: { w1: 'owner' } }))
  const dir = await (await a.signIn()).directory()
  dir.model.join('shared-1', { name: 'Team API', role: 'editor' })
  dir.model.join('shared-2', { role: 'viewer' })
  dir.model.leave('shared-2')
  await dir.whenInSync()

  const b = later(device({ relayUrl: r.url, sub: 'alice', sid: 'a2', ws: { w1: 'owner' } }))
  const onB = await (await b.signIn()).directory()
  await until(onB.status, (s) => s.state === 'in-sync')
  expect(onB.model.getSnapshot().map((e) => [e.id, e.name, e.role])).toEqual([['shared-1', 'Team API', 'editor']])
  // Another account cannot read it.
  const m = later(device({ relayUrl: r.url, sub: 'mallory', sid: 'm1', ws: { [relaySpace('alice')]: 'owner' } }))
  const mallory = await m.signIn()
  const stolen = await mallory.space.open(`${relaySpace('alice')}/account`, (doc) => ({ doc, destroy() {} }))
  const s = await until(stolen.status, (st) => st.state === 'error')
  expect(s.error).toMatchObject({ reason: 'forbidden', closeCode: 4403 })
  expect(stolen.doc.getMap('workspaces').size).toBe(0)
})
