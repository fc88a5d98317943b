/**
 * Durability across process death, with the real CLI in a child process: an acked update survives kill -9;
 * SIGTERM commits, closes sockets with 1012 and exits 0; a restart restores every doc.
 */
import { rm } from 'node:fs/promises'
import * as Y from 'yjs'
import { afterEach, describe, expect, it } from 'vitest'
import { signToken } from '@apisync/relay'
import { SECRET, SyncClient, tempDir } from '../../packages/relay/test/helpers.js'
import { spawnRelay, type RelayProcess } from './spawn-relay.js'

const dirs: string[] = []
const procs: RelayProcess[] = []
afterEach(async () => {
  for (const p of procs.splice(0)) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL')
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

async function start(dir: string): Promise<RelayProcess> {
  const p = await spawnRelay(['--port', '0', '--data', dir, '--log-level', 'info'], { APISYNC_JWT_SECRET: SECRET })
  procs.push(p)
  return p
}

const token = (sid: string) => signToken({ sub: 'alice', sid, ws: { w1: 'owner' } }, { secret: SECRET })

describe('relay process', () => {
  it('keeps an acked update through kill -9 and a restart', async () => {
    const dir = await tempDir()
    dirs.push(dir)
    const first = await start(dir)
    const client = await SyncClient.connect(`${first.wsUrl}/sync/w1/collection/c1?token=${await token('s1')}&ack=1`)
    await client.whenSynced()
    const requests = client.doc.getMap<string>('requests')
    for (let i = 0; i < 50; i++) requests.set(`r${i}`, `GET /items/${i}`)
    requests.set('last', 'acked')
    await client.waitForAckCovering()
    // The ack is in: kill the process without any chance to clean up.
    first.child.kill('SIGKILL')
    expect((await first.exited).signal).toBe('SIGKILL')
    client.close()

    const second = await start(dir)
    const reader = await SyncClient.connect(`${second.wsUrl}/sync/w1/collection/c1?token=${await token('s2')}`)
    await reader.whenSynced()
    expect(reader.doc.getMap('requests').get('last')).toBe('acked')
    expect(reader.doc.getMap('requests').size).toBe(51)
    reader.close()
    second.child.kill('SIGTERM')
    expect((await second.exited).code).toBe(0)
  })

  it('shuts down gracefully on SIGTERM (1012 to clients, exit 0) and restores every doc on restart', async () => {
    const dir = await tempDir()
    dirs.push(dir)
    const first = await start(dir)
    const docs = ['w1/manifest', 'w1/collection/a', 'w1/collection/b', 'w1/environment/e', 'w1/runs/a']
    const clients = await Promise.all(docs.map(async (name, i) => SyncClient.connect(`${first.wsUrl}/sync/${name}?token=${await token('s1')}`)))
    await Promise.all(clients.map((c) => c.whenSynced()))
    clients.forEach((c, i) => c.doc.getText('t').insert(0, `content of ${docs[i]}`))
    // No ack asked for: SIGTERM itself must commit what was received.
    await new Promise((r) => setTimeout(r, 50))
    first.child.kill('SIGTERM')
    const closes = await Promise.all(clients.map((c) => c.raw.closed))
    expect(closes.map((c) => c.code)).toEqual(docs.map(() => 1012))
    expect((await first.exited).code).toBe(0)

    const second = await start(dir)
    for (const name of docs) {
      const doc = new Y.Doc()
      const reader = await SyncClient.connect(`${second.wsUrl}/sync/${name}?token=${await token('s2')}`, doc)
      await reader.whenSynced()
      expect(doc.getText('t').toString()).toBe(`content of ${name}`)
      reader.close()
    }
    second.child.kill('SIGTERM')
    expect((await second.exited).code).toBe(0)
  })
})
