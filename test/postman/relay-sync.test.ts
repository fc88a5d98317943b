/**
 * Postman files through the whole stack (issue #6): imported on one device, synced through a real relay by the
 * client, exported on a second device of another session: deep-equal to the input.
 */
import { afterAll, beforeAll, expect, test } from 'vitest'
import * as Y from 'yjs'
import { exportCollection, exportEnvironment, importCollection, importEnvironment } from '@apisync/postman'
import { corpus, expectSameJson, readJson, readText } from '../../packages/postman/test/fixtures.js'
import { type TestRelay, device, relay as startTestRelay, until } from '../client/helpers.js'

let relay: TestRelay
beforeAll(async () => {
  relay = await startTestRelay()
})
afterAll(async () => {
  await relay.close()
})

const collections = corpus.filter((f) => f.kind.startsWith('collection')).slice(0, 6)
const environments = corpus.filter((f) => f.kind === 'environment')

test('collections and environments imported on one device export deep-equal on another, via the relay', async () => {
  expect(collections.length).toBeGreaterThan(3)
  const ws = { wp: 'owner' as const }
  const laptop = device({ relayUrl: relay.url, sub: 'pat', sid: 'laptop', ws })
  const phone = device({ relayUrl: relay.url, sub: 'pat', sid: 'phone', ws })
  const a = await (await laptop.signIn()).openWorkspace('wp')
  const ids: { file: string; id: string; kind: 'collection' | 'environment' }[] = []
  for (const file of collections) {
    const imported = importCollection(readText(file.file))
    const handle = await a.collection(imported.id)
    Y.applyUpdate(handle.doc, Y.encodeStateAsUpdate(imported.doc))
    ids.push({ file: file.file, id: imported.id, kind: 'collection' })
  }
  for (const file of environments) {
    const imported = importEnvironment(readText(file.file))
    const handle = await a.environment(imported.id)
    Y.applyUpdate(handle.doc, Y.encodeStateAsUpdate(imported.doc))
    ids.push({ file: file.file, id: imported.id, kind: 'environment' })
  }
  await (await laptop.current())!.whenInSync()

  const b = await (await phone.signIn()).openWorkspace('wp')
  for (const { file, id, kind } of ids) {
    if (kind === 'collection') {
      const handle = await b.collection(id)
      await until(handle.status, (s) => s.state === 'in-sync')
      expectSameJson(exportCollection(handle.model), readJson(file))
    } else {
      const handle = await b.environment(id)
      await until(handle.status, (s) => s.state === 'in-sync')
      expectSameJson(exportEnvironment(handle.model), readJson(file))
    }
  }
  await laptop.close()
  await phone.close()
})
