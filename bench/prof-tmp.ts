import * as Y from 'yjs'
import { WorkspaceModel } from '@apisync/model'
import { addMember, forgetKeyringCaches, generateAccountKeys, initWorkspaceKeys, memoryTrustStore, publicKeysOf, rotateKeys, unlockKeyring } from '@apisync/crypto'
const owner = { accountId: 'owner', name: 'Owner', keys: await generateAccountKeys() }
const others = await Promise.all(Array.from({ length: 49 }, async (_, i) => ({ accountId: `member${i}`, name: `M${i}`, keys: await generateAccountKeys() })))
const manifest = WorkspaceModel.create(new Y.Doc(), { id: 'big' })
const scope = { manifest, workspaceId: 'big', me: owner, trust: memoryTrustStore() }
await initWorkspaceKeys(scope)
for (const [i, m] of others.entries()) { await addMember(scope, { accountId: m.accountId, keys: publicKeysOf(m.keys) }); if ((i + 1) % 3 === 0 && i < 57) await rotateKeys(scope) }
const ms = { manifest, workspaceId: 'big', me: others[0]!, trust: memoryTrustStore() }
process.env.KR_PROF = '1'
for (const s of [scope, ms, scope, ms]) { forgetKeyringCaches(); const t = performance.now(); await unlockKeyring(s); console.log('total', (performance.now() - t).toFixed(1)) }
for (const s of [scope, ms]) { const t = performance.now(); await unlockKeyring(s); console.log('warm total', (performance.now() - t).toFixed(1)) }
