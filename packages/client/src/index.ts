export { createSyncClient, accountPrefix } from './client.js'
export type { ClientSnapshot, SyncClient, SyncClientOptions } from './client.js'
export { Account } from './account.js'
export type { AccountEnd, AdoptOptions, AdoptResult, SignOutOptions, SignOutResult } from './account.js'
export { WorkspaceDirectory, accountSpaceId, directoryDocName } from './directory.js'
export type { DirectoryEntry } from './directory.js'
export type { KeptBackup } from './kept-backups.js'
export { browserTabs } from './tabs.js'
export type { EndReason, LockManagerLike, TabChannel, TabCoordination } from './tabs.js'
export type { SpaceEnd } from './doc-space.js'
export { Workspace, type AnyDocModel } from './workspace.js'
export { SyncedDoc } from './synced-doc.js'
export type { Model } from './synced-doc.js'
export { LocalValues } from './local-values.js'
export { resolveVariables, substituteVariables } from './variables.js'
export type { ResolvedVariable, ScopeVariables, VariableScope, VariableSources } from './variables.js'
export { combineStatus, whenState } from './status.js'
export type { AccountStatus, DeviceSession, Subscribable, SyncErrorReason, SyncProblem, SyncState, SyncStatus } from './status.js'
export { PendingChangesError, SyncClientError, SyncStoppedError } from './errors.js'
export type { SyncClientErrorCode } from './errors.js'
export { decodeBackup, encodeBackup } from './backup.js'
export type { Backup } from './backup.js'
export { browserNetwork, networkSwitch } from './network.js'
export type { NetworkMonitor } from './network.js'
export type { BackoffOptions } from './backoff.js'
export type { ConnectionTraffic, WebSocketClass, WebSocketLike } from './doc-connection.js'
export type { GetToken, TokenInfo } from './token.js'
export type { AccountRecord, Role } from './registry.js'
export type { SessionsApi } from './sessions.js'
export type { RelayEndpoints } from './url.js'
export {
  HistoryError,
  type ActivityEntry,
  type ActivityPage,
  type HistoryErrorCode,
  type HistoryPage,
  type Version,
  type VersionAuthor,
} from './history.js'
