/**
 * The `/history/state` body (docs/protocol.md, "History"): what the relay encodes the client reads back
 * exactly, and anything else is refused as a whole (never a part cut short or an update left out).
 */
import { encodeHistoryState } from '@apisync/relay'
import fc from 'fast-check'
import * as encoding from 'lib0/encoding'
import { expect, test } from 'vitest'
import { RelayHistory } from '../src/history.js'
import { readHistoryState } from '../src/protocol.js'

const parts = fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 })

test('what the relay encodes, the client reads back exactly', () => {
  fc.assert(
    fc.property(fc.nat(), parts, (base, ps) => {
      // The layout of lib0's own writeVarUint8Array, part after part.
      const plain = encoding.createEncoder()
      encoding.writeVarUint(plain, base)
      encoding.writeVarUint(plain, ps.length)
      for (const p of ps) encoding.writeVarUint8Array(plain, p)
      expect(encodeHistoryState(base, ps)).toEqual(encoding.toUint8Array(plain))
      const read = readHistoryState(encodeHistoryState(base, ps))
      expect(read).not.toBeNull()
      expect(read!.base).toBe(base)
      expect(read!.parts.map((p) => [...p])).toEqual(ps.map((p) => [...p]))
    }),
  )
})

test('a truncated body, trailing bytes, a count or length past the end: refused', () => {
  fc.assert(
    fc.property(fc.nat(), parts, fc.nat(), (base, ps, cut) => {
      const body = encodeHistoryState(base, ps)
      // Every strict prefix lacks something its count announced.
      expect(readHistoryState(body.subarray(0, cut % body.length))).toBeNull()
      expect(readHistoryState(new Uint8Array([...body, 0]))).toBeNull()
    }),
  )
  expect(readHistoryState(new Uint8Array([]))).toBeNull()
  expect(readHistoryState(new Uint8Array([0]))).toBeNull() // no count
  expect(readHistoryState(new Uint8Array([0, 2, 1, 7]))).toBeNull() // two parts announced, one there
  expect(readHistoryState(new Uint8Array([0, 1, 5, 1, 2]))).toBeNull() // a part longer than what is left
  expect(readHistoryState(new Uint8Array([0, 0xff, 0xff, 0xff, 0xff, 0x0f]))).toBeNull() // a huge count
  expect(readHistoryState(new Uint8Array([0, 0x80]))).toBeNull() // a truncated varint
  expect(readHistoryState(new Uint8Array([0, 0]))).toEqual({ base: 0, parts: [] })
})

test('RelayHistory refuses a malformed body, or a base it did not ask for, with HistoryError', async () => {
  const answering = (body: Uint8Array) =>
    new RelayHistory(
      { syncUrl: 'ws://127.0.0.1:1/sync', httpUrl: 'http://127.0.0.1:1', token: async () => 't', refreshToken: async () => 't' } as never,
      (async () => new Response(body as Uint8Array<ArrayBuffer>, { status: 200 })) as typeof fetch,
    )
  await expect(answering(new Uint8Array([0, 3, 1])).state('w/collection/c', 5)).rejects.toMatchObject({ name: 'HistoryError', code: 'OFFLINE' })
  // Only the rows since 4 when the client holds 3: not a version it can build.
  await expect(answering(encodeHistoryState(4, [])).state('w/collection/c', 5, 3)).rejects.toMatchObject({ name: 'HistoryError' })
  await expect(answering(encodeHistoryState(3, [])).state('w/collection/c', 5)).rejects.toMatchObject({ name: 'HistoryError' })
  expect(await answering(encodeHistoryState(3, [new Uint8Array([1])])).state('w/collection/c', 5, 3)).toMatchObject({ base: 3 })
  expect(await answering(encodeHistoryState(0, [])).state('w/collection/c', 5, 3)).toMatchObject({ base: 0 })
})
