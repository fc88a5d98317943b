import { describe, expect, test } from 'vitest'
import * as Y from 'yjs'
import { CollectionModel, EnvironmentModel } from '@apisync/model'
import { docs, expectRefused, fork, syncAll } from './helpers.js'

const vars = (m: EnvironmentModel) => m.snapshot().variables.map(({ id: _id, ...v }) => v)

describe('environment', () => {
  test('name and variables (key, shared value, type, enabled, description) read back, also in another replica', () => {
    const [d] = docs(1)
    const env = EnvironmentModel.create(d!, {
      id: 'env-1',
      name: 'Staging',
      variables: [
        { key: 'host', value: 'staging.test' },
        { key: 'token', value: 'ciphertext==', type: 'secret', enabled: false, description: 'API token' },
        { key: 'retries', value: 3, type: 'number', extra: { system: false } },
      ],
      extra: { _postman_variable_scope: 'environment' },
    })
    for (const m of [env, EnvironmentModel.open(fork(d!, 5))]) {
      expect(m.id).toBe('env-1')
      expect(m.snapshot()).toMatchObject({ id: 'env-1', name: 'Staging', extra: { _postman_variable_scope: 'environment' }, conflicts: [], problems: [] })
      expect(vars(m)).toEqual([
        { key: 'host', value: 'staging.test', type: 'default', enabled: true, description: '', extra: {} },
        { key: 'token', value: 'ciphertext==', type: 'secret', enabled: false, description: 'API token', extra: {} },
        { key: 'retries', value: 3, type: 'number', enabled: true, description: '', extra: { system: false } },
      ])
    }
  })

  test('update name, add/update/move/remove variables', () => {
    const [d] = docs(1)
    const env = EnvironmentModel.create(d!, { name: 'Dev' })
    const a = env.addRow('variables', { key: 'a', value: '1' })
    const b = env.addRow('variables', { key: 'b', value: '2' })
    env.update({ name: 'Local' })
    env.updateRow('variables', a, { value: { nested: true }, type: 'any' })
    env.moveRow('variables', b, { index: 0 })
    env.removeRow('variables', b)
    const s = EnvironmentModel.open(fork(d!, 5)).snapshot()
    expect(s.name).toBe('Local')
    expect(s.variables.map((v) => [v.id, v.value, v.type])).toEqual([[a, { nested: true }, 'any']])
  })

  test('invalid writes throw with a path and write nothing', () => {
    const [d] = docs(1)
    const env = EnvironmentModel.create(d!, { id: 'e', name: 'Dev', variables: [{ id: 'v1', key: 'a' }] })
    expectRefused(d!, () => env.update({ name: 7 as never }), 'INVALID_VALUE', 'environment:e/name')
    expectRefused(d!, () => env.update({ variables: [] } as never), 'INVALID_VALUE', 'environment:e/variables')
    expectRefused(d!, () => env.addRow('variables', { value: () => 1 }), 'INVALID_VALUE', 'environment:e/variables/value')
    expectRefused(d!, () => env.addRow('variables', { value: Number.NaN }), 'INVALID_VALUE')
    expectRefused(d!, () => env.updateRow('variables', 'v1', { type: null }), 'INVALID_VALUE', 'environment:e/variables/type')
    expectRefused(d!, () => env.updateRow('variables', 'v2', { key: 'b' }), 'NOT_FOUND')
    expectRefused(d!, () => env.addRow('nope' as never, { key: 'b' }), 'INVALID_VALUE')
    expect(() => EnvironmentModel.create(docs(1)[0]!, { name: 'x', variables: [{ key: 1 }] as never })).toThrow(/key must be a string/)
  })

  test('concurrent variable edits: conflicts on values, both new variables kept', () => {
    const [a, b] = docs(2)
    const ea = EnvironmentModel.create(a!, { name: 'Dev', variables: [{ id: 'v', key: 'host', value: 'a' }] }, { actor: 'ann' })
    syncAll(a!, b!)
    const eb = EnvironmentModel.open(b!, { actor: 'bob' })
    ea.updateRow('variables', 'v', { value: 'from ann' })
    eb.updateRow('variables', 'v', { value: 'from bob' })
    ea.addRow('variables', { key: 'x' })
    eb.addRow('variables', { key: 'y' })
    syncAll(a!, b!)
    expect(ea.snapshot()).toEqual(eb.snapshot())
    const [c] = ea.conflicts()
    expect(c).toMatchObject({ kind: 'value', entityId: 'v', entityKind: 'variable', field: 'value' })
    expect(c!.alternatives.map((x) => x.by).sort()).toEqual(['ann', 'bob'])
    expect(ea.snapshot().variables.map((v) => v.key).sort()).toEqual(['host', 'x', 'y'])
    eb.resolve(c!.id, { pick: 1 })
    syncAll(a!, b!)
    expect(ea.conflicts()).toEqual([])
    expect(ea.snapshot().variables.find((v) => v.id === 'v')!.value).toBe(c!.alternatives[1]!.value)
  })

  test('conflicts and problems are listed in the same order on replicas that learned the rows in another order', () => {
    const [a, b, c] = docs(3)
    const ea = EnvironmentModel.create(a!, { id: 'e', name: 'Dev' })
    syncAll(a!, b!, c!)
    const eb = EnvironmentModel.open(b!)
    const ec = EnvironmentModel.open(c!)
    ea.addRow('variables', { id: 'z-first-on-a', key: 'x' })
    eb.addRow('variables', { id: 'a-first-on-b', key: 'y' })
    ea.snapshot()
    eb.snapshot()
    syncAll(a!, b!, c!)
    for (const id of ['z-first-on-a', 'a-first-on-b']) {
      ea.updateRow('variables', id, { value: 'from a' })
      ec.updateRow('variables', id, { value: 'from c' })
    }
    const evil = fork(c!, 666)
    // Rows added with a given id are kept under keys of their own, their id in their `id` field.
    const rowWithId = (id: string) => [...evil.getMap('environment.variables').values()].find((r) => r instanceof Y.Map && r.get('id') === id) as Y.Map<unknown>
    rowWithId('z-first-on-a').set('key@666', 'bad')
    rowWithId('a-first-on-b').set('key@666', 'bad')
    syncAll(a!, b!, c!, evil)
    expect(eb.conflicts()).toHaveLength(2)
    expect(eb.snapshot().problems).toHaveLength(2)
    expect(ea.snapshot()).toEqual(eb.snapshot())
    expect(ec.snapshot()).toEqual(eb.snapshot())
  })

  test('a variable removed while edited elsewhere surfaces; restore brings it back with the edit', () => {
    const [a, b] = docs(2)
    const ea = EnvironmentModel.create(a!, { name: 'Dev', variables: [{ id: 'v', key: 'host', value: 'a' }] })
    syncAll(a!, b!)
    const eb = EnvironmentModel.open(b!)
    ea.removeRow('variables', 'v')
    eb.updateRow('variables', 'v', { enabled: false })
    syncAll(a!, b!)
    const [c] = eb.conflicts()
    expect(c).toMatchObject({ kind: 'delete', entityId: 'v', path: `environment:${ea.id}/variables/variable:v` })
    eb.resolve(c!.id, 'restore')
    syncAll(a!, b!)
    expect(ea.conflicts()).toEqual([])
    expect(ea.snapshot().variables).toMatchObject([{ id: 'v', enabled: false }])
  })

  test('snapshots are shared while nothing changes; unchanged variables keep their objects', () => {
    const [d] = docs(1)
    const env = EnvironmentModel.create(d!, { name: 'Dev', variables: [{ key: 'a' }, { key: 'b' }] })
    const s1 = env.snapshot()
    expect(env.snapshot()).toBe(s1)
    env.updateRow('variables', s1.variables[1]!.id, { value: 'x' })
    const s2 = env.snapshot()
    expect(s2).not.toBe(s1)
    expect(s2.variables[0]).toBe(s1.variables[0])
    expect(s2.variables[1]).not.toBe(s1.variables[1])
  })

  test('opening a doc of another kind is refused', () => {
    const [d] = docs(1)
    CollectionModel.create(d!, { name: 'S' })
    expect(() => EnvironmentModel.open(d!)).toThrow(expect.objectContaining({ code: 'WRONG_KIND' }))
  })
})

describe('globals', () => {
  test('an environment-shaped doc of its own kind, named Globals by default', () => {
    const [d] = docs(1)
    const g = EnvironmentModel.createGlobals(d!, { variables: [{ key: 'tenant', value: 'acme' }] })
    g.addRow('variables', { key: 'region', value: 'eu', type: 'default' })
    const s = EnvironmentModel.openGlobals(fork(d!, 3)).snapshot()
    expect(s.name).toBe('Globals')
    expect(s.variables.map((v) => [v.key, v.value])).toEqual([
      ['tenant', 'acme'],
      ['region', 'eu'],
    ])
    expect(() => EnvironmentModel.open(d!)).toThrow(expect.objectContaining({ code: 'WRONG_KIND' }))
    expect(() => EnvironmentModel.openGlobals(docs(1)[0]!).snapshot()).not.toThrow()
  })
})
