/**
 * The page the browser test loads: the real client over the browser's IndexedDB and WebSocket. The test
 * drives it through `window.app`; tokens come from the test (`window.getToken`, exposed by Playwright).
 */
import { type Account, type SyncedDoc, type Workspace, createSyncClient } from '@apisync/client'
import type { CollectionModel } from '@apisync/model'

declare global {
  interface Window {
    getToken(accountId: string | null): Promise<string>
    app: typeof app
  }
}

const relayUrl = new URLSearchParams(location.search).get('relay')!
const client = createSyncClient({ relayUrl, getToken: ({ accountId }) => window.getToken(accountId), backoff: { initialMs: 50, maxMs: 300 } })
let account: Account
let workspace: Workspace
let collection: SyncedDoc<CollectionModel>

const app = {
  /** First run: sign in and create; after a reload: the account from the device's list, data from IndexedDB. */
  async init(create: boolean) {
    const current = await client.current()
    account = current ?? (await client.signIn())
    workspace = create ? await account.createWorkspace('w1', { name: 'Browser' }) : await account.openWorkspace('w1')
    collection = create ? await workspace.createCollection({ id: 'c1', name: 'API' }) : await workspace.collection('c1')
    return { restored: current !== null, names: app.names() }
  },
  async add(name: string) {
    collection.model.createRequest({ name, method: 'GET' })
    await collection.whenStored()
  },
  names: () => collection.model.snapshot().items.map((i) => i.name),
  status: () => ({ account: account.status.getSnapshot(), doc: collection.status.getSnapshot() }),
  databases: async () => (await indexedDB.databases()).map((d) => d.name!).sort(),
  async signOut() {
    return (await account.signOut()).deleted
  },
}
window.app = app
