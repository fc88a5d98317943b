import * as Y from 'yjs'
import { describe, expect, test } from 'vitest'
import { EnvironmentModel, CollectionModel, WorkspaceModel } from '@apisync/model'
import {
  addMember,
  addVariable,
  collectionVariables,
  environmentVariables,
  generateAccountKeys,
  initWorkspaceKeys,
  lockAccountKeys,
  openConflict,
  readVariables,
  removeMember,
  resealVariables,
  resolveWithValue,
  setVariableValue,
  unlockAccountKeys,
  unlockKeyring,
  memoryTrustStore,
  publicKeysOf,
  type Me,
} from '@apisync/crypto'

const scope = (manifest: WorkspaceModel, me: Me, trust = memoryTrustStore()) => ({ manifest, workspaceId: 'ws-test', me, trust })

const sync = (...docs: Y.Doc[]) => {
  for (const a of docs) for (const b of docs) if (a !== b) Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)))
}
const bytes = (doc: Y.Doc) => Buffer.from(Y.encodeStateAsUpdate(doc)).toString('latin1')

describe('workspace keys and sealed variables', () => {
  test('a member reads values; a removed member cannot read values written after removal', async () => {
    const ann = { accountId: 'ann', name: 'Ann', keys: await generateAccountKeys() }
    const bob = { accountId: 'bob', name: 'Bob', keys: await generateAccountKeys() }
    const [wsA, wsB, envA, envB] = [new Y.Doc(), new Y.Doc(), new Y.Doc(), new Y.Doc()]
    const manifestA = WorkspaceModel.create(wsA!, { name: 'Team' })
    const ringA = await initWorkspaceKeys(scope(manifestA, ann))
    const env = EnvironmentModel.create(envA!, { name: 'Prod' })
    const marker = `marker-${crypto.randomUUID()}`
    const rowId = await addVariable(environmentVariables(env), ringA, { key: 'token', value: marker })
    expect(bytes(envA!)).not.toContain(marker)
    expect(bytes(envA!)).toContain('token') // names stay in clear

    await addMember(scope(manifestA, ann), { accountId: 'bob', name: 'Bob', keys: publicKeysOf(bob.keys) })
    sync(wsA!, wsB!)
    sync(envA!, envB!)
    const manifestB = WorkspaceModel.open(wsB!)
    const envBm = EnvironmentModel.open(envB!)
    const bobScope = scope(manifestB, bob)
    const ringB = await unlockKeyring(bobScope)
    expect((await readVariables(environmentVariables(envBm), ringB))[0]).toMatchObject({ key: 'token', value: marker, state: 'open' })

    // Bob is removed: a new generation, wrapped only for Ann. Values written after are locked for Bob.
    const ringA2 = await removeMember(scope(manifestA, ann), 'bob')
    expect(ringA2.currentKid).not.toBe(ringA.currentKid)
    const after = `after-${crypto.randomUUID()}`
    await setVariableValue(environmentVariables(env), ringA2, rowId, after)
    sync(wsA!, wsB!)
    sync(envA!, envB!)
    const ringB2 = await unlockKeyring(bobScope)
    expect(ringB2.current).toBeUndefined()
    expect((await readVariables(environmentVariables(envBm), ringB2))[0]).toMatchObject({ state: 'locked', value: null })
    expect((await readVariables(environmentVariables(env), ringA2))[0]).toMatchObject({ state: 'open', value: after })
  })

  test('re-sealing moves old values to the current generation', async () => {
    const ann = { accountId: 'ann', keys: await generateAccountKeys() }
    const bob = { accountId: 'bob', keys: await generateAccountKeys() }
    const manifest = WorkspaceModel.create(new Y.Doc())
    const ring = await initWorkspaceKeys(scope(manifest, ann))
    await addMember(scope(manifest, ann), { accountId: 'bob', keys: publicKeysOf(bob.keys) })
    const env = EnvironmentModel.create(new Y.Doc())
    const vars = environmentVariables(env)
    await addVariable(vars, ring, { key: 'a', value: 'one' })
    await addVariable(vars, ring, { key: 'b', value: 'two' })
    const ring2 = await removeMember(scope(manifest, ann), 'bob')
    expect(await resealVariables(vars, ring2)).toBe(2)
    expect(await resealVariables(vars, ring2)).toBe(0)
    const onlyNew = { ...ring2, key: async (kid: string) => (kid === ring2.current!.kid ? ring2.current : undefined) }
    expect((await readVariables(vars, onlyNew)).map((v) => v.value)).toEqual(['one', 'two'])
  })

  test('a second device of the account recovers its key with the passphrase and reads', async () => {
    const keys = await generateAccountKeys()
    const backup = await lockAccountKeys(keys, 'my recovery phrase', 20_000)
    const manifest = WorkspaceModel.create(new Y.Doc())
    const ring = await initWorkspaceKeys(scope(manifest, { accountId: 'ann', keys }))
    const env = EnvironmentModel.createGlobals(new Y.Doc())
    await addVariable(environmentVariables(env), ring, { key: 'apiKey', value: 'k-123' })
    const device2 = { accountId: 'ann', keys: await unlockAccountKeys(backup, 'my recovery phrase') }
    const ring2 = await unlockKeyring(scope(manifest, device2))
    expect((await readVariables(environmentVariables(env), ring2))[0]!.value).toBe('k-123')
  })

  test('concurrent edits of a sealed value conflict; alternatives open for the chooser; resolution syncs', async () => {
    const keys = await generateAccountKeys()
    const manifest = WorkspaceModel.create(new Y.Doc())
    const ring = await initWorkspaceKeys(scope(manifest, { accountId: 'ann', keys }))
    const a = new Y.Doc()
    const envA = EnvironmentModel.create(a, { name: 'Dev' }, { actor: 'laptop' })
    const row = await addVariable(environmentVariables(envA), ring, { key: 'password', value: 'p0', type: 'secret' })
    const b = new Y.Doc()
    sync(a, b)
    const envB = EnvironmentModel.open(b, { actor: 'phone' })
    await setVariableValue(environmentVariables(envA), ring, row, 'from-laptop')
    await setVariableValue(environmentVariables(envB), ring, row, 'from-phone')
    sync(a, b)
    const [conflict] = envA.conflicts()
    expect(conflict).toBeDefined()
    const opened = await openConflict(environmentVariables(envA), ring, conflict!)
    expect(opened.alternatives.map((x) => x.value).sort()).toEqual(['from-laptop', 'from-phone'])
    expect(opened.alternatives.every((x) => x.state === 'open')).toBe(true)
    await resolveWithValue(environmentVariables(envB), ring, envB.conflicts()[0]!, 'agreed')
    sync(a, b)
    expect(envA.conflicts()).toEqual([])
    expect((await readVariables(environmentVariables(envA), ring))[0]!.value).toBe('agreed')
  })

  test('collections seal only secret variables; tampering is reported, never garbage', async () => {
    const keys = await generateAccountKeys()
    const ring = await initWorkspaceKeys(scope(WorkspaceModel.create(new Y.Doc()), { accountId: 'ann', keys }))
    const doc = new Y.Doc()
    const col = CollectionModel.create(doc, { name: 'C' })
    const vars = collectionVariables(col)
    await addVariable(vars, ring, { key: 'base', value: 'https://api.test' })
    const secretRow = await addVariable(vars, ring, { key: 'secret', value: 'hunter2', type: 'secret' })
    expect(bytes(doc)).toContain('https://api.test')
    expect(bytes(doc)).not.toContain('hunter2')
    // Someone copies the sealed value of one secret onto another row: detected.
    const stolen = col.snapshot().variables.find((v) => v.id === secretRow)!.value
    const other = await addVariable(vars, ring, { key: 'other', value: 'x', type: 'secret' })
    col.updateRow(col.id, 'variables', other, { value: stolen })
    const read = await readVariables(vars, ring)
    expect(read.find((v) => v.id === other)).toMatchObject({ state: 'tampered', value: null })
    expect(read.find((v) => v.id === secretRow)).toMatchObject({ state: 'open', value: 'hunter2' })
  })
})
