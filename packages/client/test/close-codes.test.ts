import { expect, test } from 'vitest'
import { closeAction, problemFromClose } from '../src/close-codes.js'

test('each close code maps to what the client does', () => {
  expect([1000, 1006, 1011, 1012, 1013, 4500].map(closeAction)).toEqual(['retry', 'retry', 'retry', 'retry', 'retry', 'retry'])
  expect(closeAction(4401)).toBe('refresh-token')
  expect([4400, 4403, 4413, 4499].map(closeAction)).toEqual(['stop-doc', 'stop-doc', 'stop-doc', 'stop-doc'])
  expect([4409, 4410].map(closeAction)).toEqual(['stop-session', 'stop-session'])
})

test('problems carry a reason, the relay’s words and, for the device limit, the sessions from the close reason', () => {
  expect(problemFromClose(4410, 'session revoked')).toEqual({ reason: 'revoked', message: 'session revoked', closeCode: 4410 })
  expect(problemFromClose(4403, '')).toEqual({ reason: 'forbidden', message: 'closed with 4403', closeCode: 4403 })
  expect(problemFromClose(4499, 'x').reason).toBe('rejected')
  const reason = JSON.stringify({ limit: 2, sessions: [{ sid: 'a', device: 'Laptop' }, { sid: 'b' }, { nope: 1 }] })
  expect(problemFromClose(4409, reason).sessions).toEqual([
    { sid: 'a', device: 'Laptop' },
    { sid: 'b', device: null },
  ])
  expect(problemFromClose(4409, '{"limit":3,"live":9,"list":"GET /sessions"}').sessions).toBeUndefined()
  expect(problemFromClose(4409, 'not json').sessions).toBeUndefined()
})
