/** The wire format: parsing of client messages (every refusal), the ack, and the checks on updates. */
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import { encodeAck, readAck, ProtocolError } from '@apisync/relay'
import { encodePermissionDenied, readClientMessage } from '../src/protocol.js'
import { decodeUpdate, isEmptyUpdate, validateAwarenessUpdate, wouldChange } from '../src/updates.js'
import { encodeSyncMessage, someUpdate } from './helpers.js'

describe('readClientMessage', () => {
  it('reads each message a client may send, with payloads copied into their own buffers', () => {
    const update = someUpdate()
    const frame = encodeSyncMessage(2, update)
    const message = readClientMessage(frame)
    expect(message).toEqual({ type: 'update', update })
    if (message.type !== 'update') throw new Error()
    expect(message.update.buffer).not.toBe(frame.buffer)
    expect(message.update.byteLength).toBe(message.update.buffer.byteLength)
    expect(readClientMessage(encodeSyncMessage(0, new Uint8Array([0])))).toEqual({ type: 'sync-step-1', stateVector: new Uint8Array([0]) })
    expect(readClientMessage(encodeSyncMessage(1, update)).type).toBe('sync-step-2')
    expect(readClientMessage(new Uint8Array([1, 1, 0])).type).toBe('awareness')
    expect(readClientMessage(new Uint8Array([3]))).toEqual({ type: 'query-awareness' })
  })

  it.each([
    ['empty frame', []],
    ['truncated varint', [0x80]],
    ['varint past 2^53', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]],
    ['missing sync type', [0]],
    ['unknown sync type', [0, 3, 0]],
    ['missing payload length', [0, 2]],
    ['length past the end', [0, 2, 5, 1, 2]],
    ['absurd length', [0, 2, 0xff, 0xff, 0xff, 0xff, 0x0f]],
    ['trailing bytes', [3, 0]],
    ['auth message from a client', [2, 0, 0]],
    ['ack from a client', [100, 1, 0, 0]],
    ['unknown type', [42]],
  ])('refuses %s', (_name, bytes) => {
    expect(() => readClientMessage(new Uint8Array(bytes))).toThrow(ProtocolError)
  })
})

describe('ack', () => {
  it('round-trips [100][state vector][count] and is what docs/protocol.md describes', () => {
    const doc = new Y.Doc()
    doc.clientID = 5
    doc.getText('t').insert(0, 'abc')
    const sv = Y.encodeStateVector(doc)
    const frame = encodeAck(sv, 7)
    expect([...frame]).toEqual([100, sv.length, ...sv, 7])
    expect(readAck(frame)).toEqual({ stateVector: sv, committedMessages: 7 })
    expect(readAck(new Uint8Array([0, 0, 1, 0]))).toBeNull()
  })

  it('permission-denied is y-protocols/auth: [2][0][reason]', () => {
    const e = encoding.createEncoder()
    encoding.writeVarString(e, 'no')
    expect([...encodePermissionDenied('no')]).toEqual([2, 0, ...encoding.toUint8Array(e)])
  })
})

describe('update checks', () => {
  it('decodeUpdate refuses malformed updates with a ProtocolError', () => {
    expect(() => decodeUpdate(new Uint8Array([1, 1, 1]))).toThrow(ProtocolError)
    expect(() => decodeUpdate(someUpdate().slice(0, 8))).toThrow(ProtocolError)
    expect(isEmptyUpdate(decodeUpdate(new Uint8Array([0, 0])))).toBe(true)
    expect(isEmptyUpdate(decodeUpdate(someUpdate()))).toBe(false)
  })

  it('wouldChange: new structs and new deletions change a doc; what it already has does not', () => {
    const server = new Y.Doc()
    const client = new Y.Doc()
    client.getText('t').insert(0, 'hello')
    const insert = Y.encodeStateAsUpdate(client)
    expect(wouldChange(server, decodeUpdate(insert))).toBe(true)
    Y.applyUpdate(server, insert)
    expect(wouldChange(server, decodeUpdate(insert))).toBe(false)
    client.getText('t').delete(0, 2)
    // A sync step 2 relative to the server carries the client's whole delete set.
    const step2 = Y.encodeStateAsUpdate(client, Y.encodeStateVector(server))
    expect(wouldChange(server, decodeUpdate(step2))).toBe(true)
    Y.applyUpdate(server, step2)
    expect(wouldChange(server, decodeUpdate(Y.encodeStateAsUpdate(client, Y.encodeStateVector(server))))).toBe(false)
  })

  it('validateAwarenessUpdate requires every entry to parse, JSON included, and nothing after', () => {
    const entry = (json: string, extra: number[] = []) => {
      const e = encoding.createEncoder()
      encoding.writeVarUint(e, 1)
      encoding.writeVarUint(e, 42)
      encoding.writeVarUint(e, 1)
      encoding.writeVarString(e, json)
      return new Uint8Array([...encoding.toUint8Array(e), ...extra])
    }
    expect(() => validateAwarenessUpdate(entry('{"user":{"name":"a"}}'))).not.toThrow()
    expect(() => validateAwarenessUpdate(entry('null'))).not.toThrow()
    expect(() => validateAwarenessUpdate(entry('{oops'))).toThrow(ProtocolError)
    expect(() => validateAwarenessUpdate(entry('{}', [0]))).toThrow(ProtocolError)
    expect(() => validateAwarenessUpdate(new Uint8Array([2, 1, 1]))).toThrow(ProtocolError)
  })
})
