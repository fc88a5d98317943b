/**
 * The relay and its database only ever see ciphertext of variable values (issue #5): every WebSocket message
 * the relay receives and sends passes through a recording proxy (ws unmasks frames, so payloads are compared
 * as sent), and the relay's SQLite files are read byte by byte afterwards. Random markers set as values of
 * environment, global and secret collection variables appear in neither; a marker set as a variable *name*
 * (names stay in clear) appears in both, which shows the search would find a value that leaked.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { CollectionModel, EnvironmentModel, WorkspaceModel, docName } from '@apisync/model'
import { type RunningRelay, signToken, startRelay } from '@apisync/relay'
import {
  addVariable,
  collectionVariables,
  environmentVariables,
  generateAccountKeys,
  initWorkspaceKeys,
  memoryTrustStore,
  readVariables,
  unlockKeyring,
} from '@apisync/crypto'

const secret = 'e2e-test-secret-0123456789abcdef'
let relay: RunningRelay
let proxy: WebSocketServer
let proxyUrl: string
let dataDir: string
const frames: Buffer[] = []

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'apisync-e2e-'))
  relay = await startRelay({ auth: { secret }, dataDir, port: 0, host: '127.0.0.1' })
  proxy = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await new Promise<void>((r) => proxy.once('listening', () => r()))
  proxyUrl = `ws://127.0.0.1:${(proxy.address() as { port: number }).port}`
  proxy.on('connection', (client, req) => {
    const upstream = new WebSocket(relay.wsUrl + req.url)
    const queue: Buffer[] = []
    upstream.on('open', () => queue.splice(0).forEach((m) => upstream.send(m)))
    client.on('message', (data: Buffer) => {
      frames.push(Buffer.from(data))
      if (upstream.readyState === WebSocket.OPEN) upstream.send(data)
      else queue.push(data)
    })
    upstream.on('message', (data: Buffer) => {
      frames.push(Buffer.from(data))
      client.send(data)
    })
    client.on('close', () => upstream.close())
    upstream.on('close', (code) => client.close(code === 1005 ? 1000 : code))
  })
})

afterAll(async () => {
  await new Promise<void>((r) => proxy.close(() => r()))
  await relay.close()
  rmSync(dataDir, { recursive: true, force: true })
})

const connect = (name: string, doc: Y.Doc, token: string) =>
  new WebsocketProvider(`${proxyUrl}/sync`, name, doc, {
    params: { token },
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
  })

const until = async (check: () => boolean | Promise<boolean>, what: string) => {
  const end = Date.now() + 10_000
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

test('markers set as variable values never reach the relay or its database in clear', async () => {
  const ws = `w${crypto.randomUUID().slice(0, 8)}`
  const me = { accountId: 'ann', keys: await generateAccountKeys() }
  const token = await signToken({ sub: 'ann', sid: 's1', ws: { [ws]: 'owner' } }, { secret }, { expiresIn: '5m' })
  const token2 = await signToken({ sub: 'ann', sid: 's2', ws: { [ws]: 'owner' } }, { secret }, { expiresIn: '5m' })

  const docs = { manifest: new Y.Doc(), env: new Y.Doc(), globals: new Y.Doc(), col: new Y.Doc() }
  const manifest = WorkspaceModel.create(docs.manifest, { name: 'Team' })
  const ring = await initWorkspaceKeys({ manifest, workspaceId: ws, me, trust: memoryTrustStore() })
  const env = EnvironmentModel.create(docs.env, { name: 'Prod' })
  const globals = EnvironmentModel.createGlobals(docs.globals)
  const col = CollectionModel.create(docs.col, { name: 'API' })

  const marker = () => `MARK${crypto.randomUUID().replaceAll('-', '')}`
  const values = { env: marker(), globals: marker(), secret: marker() }
  const visibleName = marker()
  await addVariable(environmentVariables(env), ring, { key: visibleName, value: values.env })
  await addVariable(environmentVariables(globals), ring, { key: 'apiKey', value: values.globals })
  await addVariable(collectionVariables(col), ring, { key: 'password', value: values.secret, type: 'secret' })

  const names = {
    manifest: docName({ workspaceId: ws, kind: 'manifest' }),
    env: docName({ workspaceId: ws, kind: 'environment', id: env.id }),
    globals: docName({ workspaceId: ws, kind: 'globals' }),
    col: docName({ workspaceId: ws, kind: 'collection', id: col.id }),
  }
  const providers = (Object.keys(docs) as (keyof typeof docs)[]).map((k) => connect(names[k], docs[k], token))

  // A second device receives everything through the relay and can read the values.
  const copies = { manifest: new Y.Doc(), env: new Y.Doc(), globals: new Y.Doc(), col: new Y.Doc() }
  const providers2 = (Object.keys(copies) as (keyof typeof copies)[]).map((k) => connect(names[k], copies[k], token2))
  await until(() => EnvironmentModel.open(copies.env).snapshot().variables.length === 1, 'the environment on device 2')
  await until(() => CollectionModel.open(copies.col).snapshot().variables.length === 1, 'the collection on device 2')
  await until(() => EnvironmentModel.openGlobals(copies.globals).snapshot().variables.length === 1, 'globals on device 2')
  await until(() => WorkspaceModel.open(copies.manifest).snapshot().keyWraps.length === 1, 'the keyring on device 2')
  const ring2 = await unlockKeyring({ manifest: WorkspaceModel.open(copies.manifest), workspaceId: ws, me, trust: memoryTrustStore() })
  expect((await readVariables(environmentVariables(EnvironmentModel.open(copies.env)), ring2))[0]!.value).toBe(values.env)
  expect((await readVariables(collectionVariables(CollectionModel.open(copies.col)), ring2))[0]!.value).toBe(values.secret)

  for (const p of [...providers, ...providers2]) p.destroy()
  await relay.close() // commit and close the database so every byte is in the files
  relay = await startRelay({ auth: { secret }, dataDir, port: 0, host: '127.0.0.1' })

  const wire = Buffer.concat(frames)
  const disk = Buffer.concat(readdirSync(dataDir).map((f) => readFileSync(join(dataDir, f))))
  expect(frames.length).toBeGreaterThan(10)
  expect(wire.includes(visibleName)).toBe(true) // the search works: names are in clear
  expect(disk.includes(visibleName)).toBe(true)
  for (const value of Object.values(values)) {
    expect(wire.includes(value)).toBe(false)
    expect(disk.includes(value)).toBe(false)
  }
})

test('a second device of the account recovers its keys from the relay with the passphrase and reads values', async () => {
  const { backUpAccountKeys, recoverAccountKeys } = await import('@apisync/crypto')
  const ws = `w${crypto.randomUUID().slice(0, 8)}`
  const laptop = await signToken({ sub: 'carol', sid: 'laptop', ws: { [ws]: 'owner' } }, { secret }, { expiresIn: '5m' })
  const phone = await signToken({ sub: 'carol', sid: 'phone', ws: { [ws]: 'owner' } }, { secret }, { expiresIn: '5m' })
  const stranger = await signToken({ sub: 'mallory', sid: 'm', ws: { [ws]: 'viewer' } }, { secret }, { expiresIn: '5m' })
  const keys = await generateAccountKeys()
  await backUpAccountKeys({ relayUrl: relay.url, token: laptop }, keys, 'carol recovery phrase')

  const manifest = WorkspaceModel.create(new Y.Doc())
  const ring = await initWorkspaceKeys({ manifest, workspaceId: ws, me: { accountId: 'carol', keys } })
  const env = EnvironmentModel.create(new Y.Doc())
  await addVariable(environmentVariables(env), ring, { key: 'k', value: 'only-carol' })

  expect(await recoverAccountKeys({ relayUrl: relay.url, token: stranger }, 'carol recovery phrase')).toBeUndefined()
  await expect(recoverAccountKeys({ relayUrl: relay.url, token: phone }, 'not the phrase')).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' })
  const recovered = await recoverAccountKeys({ relayUrl: relay.url, token: phone }, 'carol recovery phrase')
  expect(recovered).toEqual(keys)
  const ringPhone = await unlockKeyring({ manifest, workspaceId: ws, me: { accountId: 'carol', keys: recovered! } })
  expect((await readVariables(environmentVariables(env), ringPhone))[0]!.value).toBe('only-carol')
})
