/**
 * Delete while typing, through the client and a real relay on loopback: one person on two devices. The Laptop
 * types into a request's script (an editor bound to its Y.Text) while the Desktop deletes the folder holding
 * it. Nothing typed is lost, before or after the deletion arrives; both devices show one conflict that names
 * the request, its folder and both devices; Restore on one device brings it all back on both.
 */
import type { CollectionModel, RequestSnapshot } from '@apisync/model'
import { afterEach, expect, test } from 'vitest'
import { device, relay, until } from './helpers.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})
const later = <T extends { close(): Promise<void> }>(x: T): T => (cleanups.push(() => x.close()), x)

const ws = { w1: 'owner' } as const

test('typing into a request whose folder another device deletes: nothing lost, a named conflict, Restore everywhere', async () => {
  const r = later(await relay())
  const desktop = later(device({ relayUrl: r.url, sub: 'alice', sid: 'd1', ws, deviceName: 'Desktop' }))
  const laptop = later(device({ relayUrl: r.url, sub: 'alice', sid: 'l1', ws, deviceName: 'Laptop' }))
  const wd = await (await desktop.signIn()).createWorkspace('w1', { name: 'Team' })
  const cd = await wd.createCollection({ name: 'Shop' })
  const auth = cd.model.createFolder({ name: 'Auth' })
  const login = cd.model.createRequest({ name: 'Login', scripts: { test: 'ok()' } }, { parent: auth })
  await cd.whenInSync()

  const wl = await (await laptop.signIn()).openWorkspace('w1')
  const cl = await wl.collection(cd.model.id)
  await until(cl.status, () => cl.model.get(login) !== undefined)

  // The Laptop's editor is bound to the script's Y.Text; it types, character by character.
  const text = cl.model.text(login, 'test')
  const typed: string[] = []
  const type = (s: string) => {
    for (const ch of s) {
      text.insert(text.length, ch)
      typed.push(ch)
    }
  }
  type('\n// before')
  await cl.whenInSync()

  // The Desktop deletes the folder; the Laptop keeps typing while it arrives, and after.
  cd.model.delete(auth)
  type('\n// while')
  await until(cl.status, () => cl.model.get(login) === undefined)
  type('\n// after')
  await Promise.all([cd.whenInSync(), cl.whenInSync()])
  await until(cd.status, () => cd.model.conflicts().length === 1)

  const expected = `ok()${typed.join('')}`
  for (const m of [cd.model, cl.model] as CollectionModel[]) {
    expect((m.getDeleted(login) as RequestSnapshot).scripts.test).toBe(expected)
    const [c, ...rest] = m.conflicts()
    expect(rest).toEqual([])
    expect(c).toMatchObject({ kind: 'delete', entityId: login, name: 'Login', where: ['Auth'] })
    expect(c!.alternatives.map((a) => [a.value, a.by, a.device])).toEqual([
      ['deleted', 'alice', 'Desktop'],
      ['edited', 'alice', 'Laptop'],
    ])
  }

  // Restore, on the Laptop: the request with everything typed, and its folder, on both devices.
  cl.model.resolve(cl.model.conflicts()[0]!.id, 'restore')
  await Promise.all([cl.whenInSync(), cd.whenInSync()])
  await until(cd.status, () => cd.model.get(login) !== undefined)
  for (const m of [cd.model, cl.model] as CollectionModel[]) {
    expect(m.conflicts()).toEqual([])
    expect(m.parentId(login)).toBe(auth)
    expect((m.get(login) as RequestSnapshot).scripts.test).toBe(expected)
  }
})
