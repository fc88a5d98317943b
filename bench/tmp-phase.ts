import { signToken, silentLogger, startRelay } from '@apisync/relay'
import { IDBFactory } from 'fake-indexeddb'
import { WebSocket } from 'ws'
import { createSyncClient, networkSwitch } from '../packages/client/src/index.js'
const SECRET = 'x'.repeat(40)
const relay = await startRelay({ auth: { secret: SECRET }, dataDir: '/tmp/phase-relay', port: 0, logger: silentLogger })
const token = () => signToken({ sub: 'b', sid: 'b', ws: { w: 'owner' } }, { secret: SECRET })
for (let run = 0; run < 4; run++) {
  const net = networkSwitch(true)
  const client = createSyncClient({ relayUrl: relay.url, getToken: token, indexedDB: new IDBFactory(), WebSocket, network: net })
  const account = await client.signIn()
  const ws = await account.createWorkspace('w', { name: 'bench' })
  const col = await ws.createCollection({ id: `c${run}`, name: 'bench' })
  const seed = col.model.createRequest({ name: 'seed' })
  await account.whenInSync()
  net.set(false)
  for (let i = 0; i < 1000; i++) {
    if (i % 4 === 0) col.model.createRequest({ name: `offline ${i}`, method: 'POST' })
    else if (i % 4 === 1) col.model.updateItem(seed, { name: `renamed ${i}` })
    else if (i % 4 === 2) col.model.updateItem(seed, { method: 'PUT' })
    else col.model.addRow(seed, 'headers', { key: `X-${i}`, value: String(i) })
  }
  await col.whenStored()
  const before = (await (await fetch(relay.url + '/metrics')).text()).split('\n').filter((l) => /^apisync_(commit_seconds|ack_latency_seconds)_(sum|count)/.test(l))
  const t0 = performance.now()
  const marks: string[] = []
  col.status.subscribe(() => marks.push(`${col.status.getSnapshot().state}@${(performance.now() - t0).toFixed(0)}`))
  net.set(true)
  await col.whenInSync()
  console.log(run, marks.join(' '), (performance.now() - t0).toFixed(0))
  const m = (await (await fetch(relay.url + '/metrics')).text()).split('\n').filter((l) => /^apisync_(commit_seconds|ack_latency_seconds)_(sum|count)/.test(l))
  console.log('  before', before.join(' | '), '\n  after ', m.join(' | '))
  await client.close()
}
await relay.close()
