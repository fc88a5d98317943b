/** Local ("current") variable values: kept on this device only, never sent to the relay. */
import { SqliteDocStore } from '@apisync/relay'
import { afterEach, expect, test } from 'vitest'
import { device, relay } from './helpers.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})
const later = <T extends { close(): Promise<void> }>(x: T): T => (cleanups.push(() => x.close()), x)

test('local values resolve over shared ones on this device and never reach the relay', async () => {
  const r = later(await relay())
  const a = later(device({ relayUrl: r.url, sub: 'alice', sid: 'a1', ws: { w1: 'owner' } }))
  const account = await a.signIn()
  const w = await account.createWorkspace('w1', { name: 'Team' })
  const col = await w.createCollection({ name: 'API', variables: [{ key: 'token', value: 'shared-collection-token' }] })
  const env = await w.createEnvironment({ name: 'dev', variables: [{ key: 'host', value: 'https://shared.example' }] })
  const globals = await w.globals()
  globals.model.addRow('variables', { key: 'host', value: 'https://global.example' })
  const secret = 'local-only-secret-7f3a9c'
  const local = await w.localValues(col)
  local.set(col.model.snapshot().variables[0]!.id, secret)
  await local.whenStored()
  await account.whenInSync()

  const vars = await w.variables({ collectionId: col.model.id, environmentId: env.model.id, overrides: { page: 2 } })
  expect(Object.fromEntries([...vars].map(([k, v]) => [k, v.value]))).toEqual({ token: secret, host: 'https://shared.example', page: 2 })

  // Everything the relay stored, searched for the local value.
  await r.running.relay.flush()
  const store = new SqliteDocStore({ dataDir: r.dataDir })
  const names = await store.listDocs()
  expect(names.length).toBeGreaterThanOrEqual(4)
  expect(names.some((n) => n.includes('#'))).toBe(false)
  for (const name of names) {
    const { updates } = await store.load(name)
    for (const u of updates) expect(Buffer.from(u).includes(secret)).toBe(false)
  }
  expect(Buffer.concat((await store.load(`w1/collection/${col.model.id}`)).updates).includes('shared-collection-token')).toBe(true)
  await store.close()

  // Another device of the account sees the shared value only.
  const b = later(device({ relayUrl: r.url, sub: 'alice', sid: 'a2', ws: { w1: 'owner' } }))
  const wb = await (await b.signIn()).openWorkspace('w1')
  const colB = await wb.collection(col.model.id)
  await colB.whenInSync()
  expect((await wb.variables({ collectionId: col.model.id })).get('token')?.value).toBe('shared-collection-token')
})
