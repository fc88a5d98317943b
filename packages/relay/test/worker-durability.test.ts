/**
 * Acks and the storage worker across process death: the relay process (the CLI, committing on its worker
 * thread) is killed with SIGKILL the moment a client receives an ack, while later commits are still in
 * flight; everything that ack covered is in the SQLite file afterwards.
 */
import { rm } from 'node:fs/promises'
import * as Y from 'yjs'
import { afterEach, expect, it } from 'vitest'
import { readAck, signToken, type Ack } from '@apisync/relay'
import { spawnRelay, type RelayProcess } from '../../../test/relay/spawn-relay.js'
import { SECRET, SyncClient, readStoredDoc, tempDir } from './helpers.js'

let proc: RelayProcess | null = null
let dir = ''
afterEach(async () => {
  if (proc && proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL')
  proc = null
  await rm(dir, { recursive: true, force: true })
})

it('keeps everything an ack covered when the relay is killed right after sending it, mid-pipeline', async () => {
  dir = await tempDir()
  proc = await spawnRelay(['--port', '0', '--data', dir, '--log-level', 'info'], { APISYNC_JWT_SECRET: SECRET })
  const token = await signToken({ sub: 'alice', sid: 's1', ws: { w1: 'owner' } }, { secret: SECRET })
  const client = await SyncClient.connect(`${proc.wsUrl}/sync/w1/collection/killed?token=${token}&ack=1`)
  await client.whenSynced()
  const own = client.doc.clientID
  const running = proc
  let lastAck: Ack | null = null
  client.raw.socket.on('message', (data: Buffer) => {
    const ack = readAck(new Uint8Array(data))
    if (!ack || lastAck) return
    // The first ack past 100 items: kill at once, from inside the message handler.
    if ((Y.decodeStateVector(ack.stateVector).get(own) ?? 0) >= 100) {
      lastAck = ack
      running.child.kill('SIGKILL')
    }
  })
  const log = client.doc.getArray<number>('log')
  for (let i = 0; i < 2000; i++) log.push([i]) // pipelined: many commits follow the one acked
  expect((await running.exited).signal).toBe('SIGKILL')
  client.close()

  expect(lastAck).not.toBeNull()
  const acked = Y.decodeStateVector(lastAck!.stateVector).get(own)!
  const stored = readStoredDoc(dir, 'w1/collection/killed')
  expect(Y.decodeStateVector(Y.encodeStateVector(stored)).get(own) ?? 0).toBeGreaterThanOrEqual(acked)
  expect(stored.getArray('log').toArray().slice(0, acked)).toEqual(Array.from({ length: acked }, (_, i) => i))
})
