import * as Y from 'yjs'
import { expect, test } from 'vitest'
import { decodeBackup, encodeBackup } from '../src/backup.js'

test('a backup round-trips and its updates restore the docs', () => {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, 'unsent work')
  const bytes = encodeBackup({ accountId: 'alice', createdAt: 1_700_000_000_000, docs: [{ name: 'w/collection/c', update: Y.encodeStateAsUpdate(doc) }] })
  const back = decodeBackup(bytes)
  expect(back).toMatchObject({ accountId: 'alice', createdAt: 1_700_000_000_000 })
  const restored = new Y.Doc()
  Y.applyUpdate(restored, back.docs[0]!.update)
  expect(restored.getText('t').toString()).toBe('unsent work')
})

test('anything else is refused with BAD_BACKUP', () => {
  const good = encodeBackup({ accountId: 'a', createdAt: 1, docs: [] })
  for (const bad of [new Uint8Array(), new Uint8Array([1, 2, 3]), good.slice(0, good.length - 1), new Uint8Array([...good, 0])])
    expect(() => decodeBackup(bad)).toThrow(expect.objectContaining({ code: 'BAD_BACKUP' }))
})
