/**
 * Sealing a host cannot forget (issue #10): a doc of a workspace with encryption on refuses variable values in
 * clear where they must be sealed (ModelError NOT_SEALED); Postman imports seal before anything enters a doc;
 * the client's scratch-pad adoption seals first and refuses to copy anything in clear.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as Y from 'yjs'
import { afterEach, describe, expect, test } from 'vitest'
import { CollectionModel, EnvironmentModel, ModelError, WorkspaceModel, isSealedValue, requireSealedValues, sealingRequired, unsealedValues } from '@apisync/model'
import { importCollection, importEnvironment, importGlobals } from '@apisync/postman'
import { SyncClientError } from '@apisync/client'
import {
  addVariable,
  collectionVariables,
  environmentVariables,
  initWorkspaceKeys,
  memoryTrustStore,
  openConflict,
  readVariables,
  sealAll,
  sealerFor,
  setVariableType,
  setVariableValue,
} from '@apisync/crypto'
import { device as clientDevice, relay } from '../client/helpers.js'
import { person, sync } from './helpers.js'

const FIXTURES = new URL('../fixtures/postman/', import.meta.url).pathname
const keyring = async () => {
  const ann = await person('ann')
  return initWorkspaceKeys({ manifest: WorkspaceModel.create(new Y.Doc()), workspaceId: 'ws', me: ann, trust: memoryTrustStore() })
}
const refusedNotSealed = (fn: () => unknown) => {
  let error: unknown
  try {
    fn()
  } catch (e) {
    error = e
  }
  expect(error).toBeInstanceOf(ModelError)
  expect((error as ModelError).code).toBe('NOT_SEALED')
  return error as ModelError
}
const bytes = (doc: Y.Doc) => Buffer.from(Y.encodeStateAsUpdate(doc)).toString('latin1')

describe('a doc of a workspace with encryption on', () => {
  test('refuses clear values that must be sealed, on every path that writes one; sealed ones pass', async () => {
    const ring = await keyring()
    const envDoc = new Y.Doc()
    requireSealedValues(envDoc)
    refusedNotSealed(() => EnvironmentModel.create(envDoc, { name: 'Prod', variables: [{ key: 'token', value: 'clear' }] }))
    expect(envDoc.store.clients.size).toBe(0) // nothing written
    const env = EnvironmentModel.create(envDoc, { name: 'Prod' })
    const vars = environmentVariables(env)
    const e = refusedNotSealed(() => env.addRow('variables', { key: 'token', value: 'clear' }))
    expect(e.message).toMatch(/“token” must be sealed/)
    refusedNotSealed(() => env.addRow('variables', { key: 'token' }))
    const row = await addVariable(vars, ring, { key: 'token', value: 's3cret' })
    refusedNotSealed(() => env.updateRow('variables', row, { value: 'clear' }))
    env.updateRow('variables', row, { description: 'the API token', enabled: false }) // no value: fine
    await setVariableValue(vars, ring, row, 'next')
    expect((await readVariables(vars, ring))[0]).toMatchObject({ value: 'next', state: 'open' })
    expect(bytes(envDoc)).not.toContain('s3cret')

    // Collections: only secret variables, including a type change and folder variables.
    const colDoc = new Y.Doc()
    requireSealedValues(colDoc)
    refusedNotSealed(() => CollectionModel.create(colDoc, { name: 'API', variables: [{ key: 'pw', value: 'x', type: 'secret' }] }))
    const col = CollectionModel.create(colDoc, { name: 'API', variables: [{ key: 'base', value: 'https://api.test' }] })
    const base = col.snapshot().variables[0]!.id
    refusedNotSealed(() => col.updateRow(col.id, 'variables', base, { type: 'secret' }))
    await setVariableType(collectionVariables(col), ring, base, 'secret')
    expect(isSealedValue(col.snapshot().variables[0]!.value)).toBe(true)
    await setVariableType(collectionVariables(col), ring, base, 'default')
    expect(col.snapshot().variables[0]).toMatchObject({ type: 'default', value: 'https://api.test' })
    refusedNotSealed(() => col.createFolder({ name: 'F', variables: [{ key: 'pw', value: 'x', type: 'secret' }] }))
    const folder = col.createFolder({ name: 'F' })
    refusedNotSealed(() => col.addRow(folder, 'variables', { key: 'pw', value: 'x', type: 'secret' }))
    await addVariable(collectionVariables(col, folder), ring, { key: 'pw', value: 'folder-secret', type: 'secret' })
    expect((await readVariables(collectionVariables(col, folder), ring))[0]).toMatchObject({ value: 'folder-secret', state: 'open' })
    expect(bytes(colDoc)).not.toContain('folder-secret')
    expect(unsealedValues('collection', col.snapshot())).toEqual([])
  })

  test('a conflict is resolved only with a sealed value; picking a clear alternative is refused', async () => {
    const ring = await keyring()
    const a = new Y.Doc()
    const envA = EnvironmentModel.create(a, { name: 'Dev' })
    const row = await addVariable(environmentVariables(envA), ring, { key: 'pw', value: 'p0' })
    const b = new Y.Doc()
    sync(a, b)
    const envB = EnvironmentModel.open(b)
    envA.updateRow('variables', row, { value: 'written in clear by an old client' }) // a doc not (yet) marked
    await setVariableValue(environmentVariables(envB), ring, row, 'sealed on b')
    sync(a, b)
    requireSealedValues(a)
    const conflict = envA.conflicts()[0]!
    const clear = conflict.alternatives.findIndex((x) => x.value === 'written in clear by an old client')
    refusedNotSealed(() => envA.resolve(conflict.id, { pick: clear }))
    refusedNotSealed(() => envA.resolve(conflict.id, { value: 'typed in clear' }))
    const opened = await openConflict(environmentVariables(envA), ring, conflict)
    envA.resolve(conflict.id, { pick: opened.alternatives.findIndex((x) => x.value === 'sealed on b') })
    expect(envA.conflicts()).toEqual([])
  })

  test('the requirement travels with the doc, and clearing the flag turns nothing off', async () => {
    const ring = await keyring()
    const honest = new Y.Doc()
    requireSealedValues(honest, () => true)
    const env = EnvironmentModel.create(honest, { name: 'Prod' })
    await addVariable(environmentVariables(env), ring, { key: 'a', value: 'x' })
    expect(honest.getMap('meta').get('sealed')).toBe(true)
    // A replica whose host knows nothing of encryption honours the flag it received.
    const other = new Y.Doc()
    sync(honest, other)
    expect(sealingRequired(other)).toBe(true)
    refusedNotSealed(() => EnvironmentModel.open(other).addRow('variables', { key: 'b', value: 'clear' }))
    // An attacker clears the flag: the honest writer (required by its host) and the replica that saw it still refuse.
    const attacker = new Y.Doc()
    sync(honest, attacker)
    attacker.getMap('meta').delete('sealed')
    sync(honest, other, attacker)
    expect(honest.getMap('meta').get('sealed')).toBeUndefined()
    refusedNotSealed(() => env.addRow('variables', { key: 'c', value: 'clear' }))
    refusedNotSealed(() => EnvironmentModel.open(other).addRow('variables', { key: 'c', value: 'clear' }))
    // The scratch pad (no requirement) writes clear values as always.
    EnvironmentModel.create(new Y.Doc()).addRow('variables', { key: 'local', value: 'clear is fine here' })
  })
})

describe('undo and redo never bring a value back in clear', () => {
  const frames = (doc: Y.Doc) => {
    const seen: string[] = []
    doc.on('update', (u: Uint8Array) => seen.push(Buffer.from(u).toString('latin1')))
    return seen
  }

  test('history written before encryption was switched on is dropped when it is', async () => {
    const ring = await keyring()
    const doc = new Y.Doc()
    const env = EnvironmentModel.create(doc, { name: 'Dev' })
    env.clearUndoHistory()
    const row = env.addRow('variables', { key: 'token', value: 'clear-1' })
    env.updateRow('variables', row, { value: 'clear-2' })
    env.updateRow('variables', row, { value: 'clear-3' })
    expect(env.undo()).toBe(true) // back to clear-2, with clear-3 on the redo stack
    expect(env.canUndo() && env.canRedo()).toBe(true)
    requireSealedValues(doc)
    const sent = frames(doc)
    expect([env.canUndo(), env.canRedo()]).toEqual([false, false])
    expect([env.undo(), env.redo()]).toEqual([false, false])
    expect(sent).toEqual([])
    // Sealing the legacy value now: its undo would write clear-2 back, so it is refused before anything is written.
    await sealAll(environmentVariables(env), ring)
    expect(isSealedValue(env.snapshot().variables[0]!.value)).toBe(true)
    sent.length = 0
    expect(env.canUndo()).toBe(false)
    const e = refusedNotSealed(() => env.undo())
    expect(e.message).toMatch(/“token” back in clear/)
    expect(sent).toEqual([])
    expect(isSealedValue(env.snapshot().variables[0]!.value)).toBe(true)
    expect(env.undo()).toBe(false) // the history up to it is gone
    // Steps between sealed values undo and redo as always.
    await setVariableValue(environmentVariables(env), ring, row, 'sealed-next')
    expect(env.undo()).toBe(true)
    expect((await readVariables(environmentVariables(env), ring))[0]).toMatchObject({ value: 'clear-2', state: 'open' })
    expect(env.redo()).toBe(true)
    expect((await readVariables(environmentVariables(env), ring))[0]).toMatchObject({ value: 'sealed-next', state: 'open' })
    for (const f of sent) for (const clear of ['clear-1', 'clear-2', 'clear-3', 'sealed-next']) expect(f).not.toContain(clear)
  })

  test('a collection variable made secret, then undone, is a default one in clear again (allowed); redone, secret and sealed', async () => {
    const ring = await keyring()
    const doc = new Y.Doc()
    requireSealedValues(doc)
    const col = CollectionModel.create(doc, { name: 'API', variables: [{ key: 'base', value: 'https://api.test' }] })
    col.clearUndoHistory()
    const vars = collectionVariables(col)
    const base = col.snapshot().variables[0]!.id
    await setVariableType(vars, ring, base, 'secret') // type and sealed value in one write
    expect(col.undo()).toBe(true) // a default variable may be clear again
    expect(col.snapshot().variables[0]).toMatchObject({ type: 'default', value: 'https://api.test' })
    expect(col.redo()).toBe(true)
    expect(col.snapshot().variables[0]!.type).toBe('secret')
    expect(isSealedValue(col.snapshot().variables[0]!.value)).toBe(true)
  })

  test('undoing a resolution that closed a clear alternative is refused (the conflict would bring it back)', async () => {
    const ring = await keyring()
    const a = new Y.Doc()
    const envA = EnvironmentModel.create(a, { name: 'Dev' })
    const row = await addVariable(environmentVariables(envA), ring, { key: 'pw', value: 'p0' })
    const b = new Y.Doc()
    sync(a, b)
    const envB = EnvironmentModel.open(b)
    envA.updateRow('variables', row, { value: 'written in clear by an old client' })
    await setVariableValue(environmentVariables(envB), ring, row, 'sealed on b')
    sync(a, b)
    requireSealedValues(a)
    const conflict = envA.conflicts()[0]!
    const opened = await openConflict(environmentVariables(envA), ring, conflict)
    envA.resolve(conflict.id, { pick: opened.alternatives.findIndex((x) => x.value === 'sealed on b') })
    expect(envA.conflicts()).toEqual([])
    const sent = frames(a)
    expect(envA.canUndo()).toBe(false)
    refusedNotSealed(() => envA.undo())
    expect(sent).toEqual([])
    expect(envA.conflicts()).toEqual([])
  })
})

describe('Postman imports seal before anything enters the doc', () => {
  const postman = {
    info: { name: 'Sealed API', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' },
    variable: [
      { key: 'base', value: 'https://api.example.test' },
      { key: 'apiKey', value: 'MARK-collection-secret', type: 'secret' },
    ],
    item: [
      { name: 'Admin', variable: [{ key: 'adminPw', value: 'MARK-folder-secret', type: 'secret' }], item: [{ name: 'ping', request: { method: 'GET', url: '{{base}}/ping' } }] },
    ],
  }

  test('a collection: secret values of the collection and its folders are sealed, the others kept in clear', async () => {
    const ring = await keyring()
    const doc = new Y.Doc()
    requireSealedValues(doc)
    refusedNotSealed(() => importCollection(postman, { doc }))
    expect(doc.store.clients.size).toBe(0)
    const col = await importCollection(postman, { doc, seal: sealerFor(ring) })
    const state = bytes(doc)
    expect(state).not.toContain('MARK-')
    expect(state).toContain('https://api.example.test') // not secret: in clear, as Postman keeps it
    const folder = col.snapshot().items[0]!.id
    expect((await readVariables(collectionVariables(col), ring)).map((v) => v.value)).toEqual(['https://api.example.test', 'MARK-collection-secret'])
    expect((await readVariables(collectionVariables(col, folder), ring))[0]).toMatchObject({ value: 'MARK-folder-secret', state: 'open' })
  })

  test('an environment and globals: every value sealed', async () => {
    const ring = await keyring()
    const seal = sealerFor(ring)
    const envText = await readFile(join(FIXTURES, 'transferwise__public-api-postman-collectio__Cards_API_Sandbox.postman_environment.json'), 'utf8')
    const doc = new Y.Doc()
    requireSealedValues(doc)
    refusedNotSealed(() => importEnvironment(envText, { doc }))
    const env = await importEnvironment(envText, { doc, seal })
    expect(bytes(doc)).not.toContain('twcard.sandbox.transferwise.tech')
    expect((await readVariables(environmentVariables(env), ring)).find((v) => v.key === 'pci-host')!.value).toBe('https://twcard.sandbox.transferwise.tech')
    const globalsText = await readFile(join(FIXTURES, 'postmanlabs__newman__globals-env-data-files.postman_globals.json'), 'utf8')
    const globals = await importGlobals(globalsText, { seal })
    const raw = JSON.parse(globalsText) as { key: string; value: string }[] // a bare array, as old newman files are
    for (const v of raw) if (v.value.length > 4) expect(bytes(globals.doc)).not.toContain(v.value)
    expect((await readVariables(environmentVariables(globals), ring)).map((v) => v.value)).toEqual(raw.map((v) => v.value))
  })
})

describe("the client's scratch-pad adoption", () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
  })

  test('into a workspace with encryption on: refused while values are clear (nothing copied); with seal, everything arrives sealed', async () => {
    const r = await relay()
    cleanups.push(() => r.close())
    const d = clientDevice({ relayUrl: r.url, sub: 'ann', sid: 's1', ws: { w1: 'owner' } })
    cleanups.push(() => d.close())
    const scratch = await d.scratchPad()
    const col = await scratch.createCollection({ name: 'Draft' })
    const folder = col.model.createFolder({ name: 'F' })
    col.model.addRow(col.model.id, 'variables', { key: 'pw', value: 'MARK-col', type: 'secret' })
    col.model.addRow(folder, 'variables', { key: 'fpw', value: 'MARK-folder', type: 'secret' })
    col.model.addRow(col.model.id, 'variables', { key: 'host', value: 'draft.test' })
    const env = await scratch.createEnvironment({ name: 'Local' })
    env.model.addRow('variables', { key: 'token', value: 'MARK-env' })
    const globals = await scratch.globals()
    globals.model.addRow('variables', { key: 'g', value: 'MARK-globals' })

    const account = await d.signIn()
    const target = await account.createWorkspace('w1', { name: 'Team' })
    const ring = await initWorkspaceKeys({ manifest: target.manifest.model, workspaceId: 'w1', me: await person('ann'), trust: memoryTrustStore() })
    expect(target.sealed).toBe(true)
    const refusal = await account.adoptScratchPad('w1').catch((e: unknown) => e)
    expect(refusal).toBeInstanceOf(SyncClientError)
    expect((refusal as SyncClientError).code).toBe('NOT_SEALED')
    expect(target.manifest.model.snapshot().collections).toEqual([])

    await account.adoptScratchPad('w1', {
      seal: async (doc) => {
        const lists =
          doc.model.kind === 'collection'
            ? [collectionVariables(doc.model as CollectionModel), collectionVariables(doc.model as CollectionModel, folder)]
            : [environmentVariables(doc.model as EnvironmentModel)]
        for (const list of lists) await sealAll(list, ring)
      },
    })
    await account.whenInSync()
    const copied = await target.collection(col.model.id)
    const state = [copied.doc, (await target.environment(env.model.id)).doc, (await target.globals()).doc].map(bytes).join('')
    for (const m of ['MARK-col', 'MARK-folder', 'MARK-env', 'MARK-globals']) expect(state).not.toContain(m)
    expect(state).toContain('draft.test')
    expect((await readVariables(collectionVariables(copied.model, folder), ring))[0]!.value).toBe('MARK-folder')
    expect((await readVariables(environmentVariables((await target.globals()).model), ring))[0]!.value).toBe('MARK-globals')
    // And a host that now writes in clear into the workspace is refused.
    refusedNotSealed(() => copied.model.addRow(copied.model.id, 'variables', { key: 'x', value: 'clear', type: 'secret' }))
  })
})
