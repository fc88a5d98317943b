/**
 * Tabs of one device, in Node: clients that share one IndexedDB, in-memory Web Locks and BroadcastChannels
 * (as tabs of one browser profile do), against a real relay. One tab leads and talks to the relay; every
 * tab sees every edit at once, offline too; pending and state agree; sign-out stops them all.
 * (The same in Chromium, with the demo: test/web/tabs.test.ts.)
 */
import { type SyncClient, type SyncedDoc, accountPrefix, decodeBackup, networkSwitch } from '@apisync/client'
import type { CollectionModel, RequestSnapshot } from '@apisync/model'
import { IDBFactory } from 'fake-indexeddb'
import { afterEach, expect, test } from 'vitest'
import { device, relay, sleep, tabsOfOneDevice, until } from './helpers.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {})
})
const later = <T extends { close(): Promise<void> }>(x: T): T => (cleanups.push(() => x.close()), x)
const ws = { w1: 'owner' } as const
const url = (c: SyncedDoc<CollectionModel>, id: string) => (c.model.get(id) as RequestSnapshot | undefined)?.url.raw

/** Two tabs of one device signed in to alice, both showing collection c1 of w1. */
async function twoTabs(relayUrl: string) {
  const idb = new IDBFactory()
  const tabs = tabsOfOneDevice()
  const net = networkSwitch(true)
  const open = (name: string) => later(device({ relayUrl, sub: 'alice', sid: 'laptop', ws, indexedDB: idb, tabs, network: net, actionWindowMs: 1000 })) as SyncClient & { idb: IDBFactory }
  const one = open('one')
  const a1 = await one.signIn()
  const w1 = await a1.createWorkspace('w1', { name: 'Team' })
  const c1 = await w1.createCollection({ id: 'c1', name: 'API' })
  const req = c1.model.createRequest({ name: 'login', url: { raw: 'https://a.test' } })
  await a1.whenInSync()
  const two = open('two')
  const a2 = (await two.current())!
  const c2 = await (await a2.openWorkspace('w1')).collection('c1')
  await until(c2.status, (s) => s.state === 'in-sync')
  return { idb, net, one, two, a1, a2, c1, c2, req }
}

test('offline, each tab sees the other’s edit at once and both count the same pending actions; online, one upload', async () => {
  const r = later(await relay())
  const { net, a1, a2, c1, c2, req } = await twoTabs(r.url)
  // One tab talks to the relay: one connection per open doc, not one per tab.
  expect(a1.space.leading !== a2.space.leading).toBe(true)
  expect(r.running.relay.stats().connections).toBe(2) // manifest + collection

  net.set(false)
  await until(c1.status, (s) => s.state === 'offline')
  const t0 = performance.now()
  c1.model.updateItem(req, { url: { raw: 'https://a.test/v2' } })
  c2.model.updateItem(req, { name: 'sign in' })
  await until(c2.status, () => url(c2, req) === 'https://a.test/v2', 1_000)
  await until(c1.status, () => c1.model.get(req)?.name === 'sign in', 1_000)
  expect(performance.now() - t0).toBeLessThan(1_000) // generous: the browser test prints the real figure
  // Typing in one field is one action (the person moved from the name to the URL: a new one).
  c2.breakAction()
  for (const ch of '/users') c2.model.updateItem(req, { url: { raw: url(c2, req) + ch } })
  await until(c1.status, (s) => s.pending === 3)
  await until(c2.status, (s) => s.pending === 3)
  expect(c1.status.getSnapshot().state).toBe(c2.status.getSnapshot().state)

  const before = r.running.relay.metrics.updatesIn.get()
  net.set(true)
  await until(c1.status, (s) => s.state === 'in-sync' && s.pending === 0)
  await until(c2.status, (s) => s.state === 'in-sync' && s.pending === 0)
  // The offline work went up once: one sync step 2 per open doc (manifest, collection), not one per tab.
  expect(r.running.relay.metrics.updatesIn.get() - before).toBe(2)
  expect(c1.model.get(req)).toMatchObject({ name: 'sign in', url: { raw: 'https://a.test/v2/users' } })
})

test('the leading tab closes: another takes over and sends what is pending', async () => {
  const r = later(await relay())
  const { net, one, two, a1, a2, c1, c2, req } = await twoTabs(r.url)
  const [leader, follower, fcol] = a1.space.leading ? [one, a2, c2] : [two, a1, c1]
  net.set(false)
  fcol.model.updateItem(req, { method: 'POST' })
  await fcol.whenStored()
  await leader.close()
  net.set(true)
  await until(fcol.status, (s) => s.state === 'in-sync' && s.pending === 0)
  expect(follower.space.leading).toBe(true)
  const other = later(device({ relayUrl: r.url, sub: 'alice', sid: 'phone', ws }))
  const col = await (await (await other.signIn()).openWorkspace('w1')).collection('c1')
  await until(col.status, () => (col.model.get(req) as RequestSnapshot | undefined)?.method === 'POST')
})

test('sign-out in one tab stops the other at once: its later write never reaches the relay and is offered as a backup', async () => {
  const r = later(await relay())
  const { idb, net, one, a1, a2, c2, req } = await twoTabs(r.url)
  // Tab 2 has an unsynced edit when tab 1 signs out.
  net.set(false)
  c2.model.updateItem(req, { name: 'unsynced in tab 2' })
  await until(a1.status, (s) => s.pending === 1)
  net.set(true)
  const pendingNow = await a1.pendingChanges()
  expect(pendingNow).toBe(1)
  const result = await one.signOut('alice', { force: true })
  expect(result.sessionEnded).toBe(true)
  expect(decodeBackup(result.backup!).docs.map((d) => d.name)).toEqual(['w1/collection/c1'])
  expect(result.keptBackupId).not.toBeNull()
  await until(a2.ended, (e) => e?.done === true)
  expect(a2.ended.getSnapshot()).toMatchObject({ reason: 'signed-out', backupId: result.keptBackupId, pending: 1 })
  expect((await idb.databases()).map((d) => d.name!).filter((n) => n.startsWith(accountPrefix('alice')))).toEqual([])

  // A write in tab 2 afterwards: never sent, never stored, offered as a backup of its own.
  c2.model.updateItem(req, { name: 'after the sign-out' })
  await sleep(300)
  const stored = await r.running.relay.flush().then(() => storedNames(r.dataDir))
  expect(stored).not.toContain('after the sign-out')
  const late = a2.lateChanges()
  expect(late).not.toBeNull()
  const [lateDoc] = decodeBackup(late!).docs
  expect(lateDoc!.name).toBe('w1/collection/c1')
  expect(Buffer.from(lateDoc!.update).toString('latin1')).toContain('after the sign-out')
  // And the relay no longer lists the session.
  const phone = later(device({ relayUrl: r.url, sub: 'alice', sid: 'phone', ws }))
  const onPhone = await phone.signIn()
  expect((await onPhone.sessions.list()).map((s) => s.sid)).toEqual(['phone'])
})

/** Request names the relay stored (reading its SQLite file, as any other reader would). */
async function storedNames(dataDir: string): Promise<string> {
  const { readdir, readFile } = await import('node:fs/promises')
  const { join } = await import('node:path')
  const files = await readdir(dataDir)
  return (await Promise.all(files.map((f) => readFile(join(dataDir, f)).catch(() => Buffer.alloc(0))))).map((b) => b.toString('latin1')).join('\n')
}

test('switching accounts and deleting one reach every tab: the other tab follows, and stops the account it leaves', async () => {
  const r = later(await relay())
  const { one, two, a2 } = await twoTabs(r.url)
  const { token } = await import('./helpers.js')
  await one.signIn(await token('bob', 'bob-laptop', { wb: 'owner' }))
  // Tab 2 follows: Bob is current there too, and Alice's docs closed in it (no connection of hers is left).
  await until(two, (s) => s.currentAccountId === 'bob')
  await until(two, () => r.running.relay.stats().connections === 0)
  await expect(a2.openWorkspace('w1')).rejects.toMatchObject({ code: 'CLOSED' })

  // Bob deletes his account in tab 1: tab 2 learns it, at once and for good.
  const bobThere = await two.account('bob')
  await (await one.account('bob')).deleteAccount()
  await until(bobThere.ended, (e) => e?.done === true && e.reason === 'deleted')
  await until(two, (s) => s.accounts.length === 1)
  expect(two.getSnapshot().accounts.map((a) => a.id)).toEqual(['alice'])
})
