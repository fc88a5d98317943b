/** @apisync/relay: the server every apisync client syncs through. */
export { createRelay, DEFAULT_MAX_MESSAGE_BYTES, type Relay, type RelayOptions, type RelayStats } from './relay.js'
export { startRelay, type RunningRelay, type StartRelayOptions } from './server.js'
export { signToken, type SignOptions, type SigningKey, type TokenClaims } from './token.js'
export { createTokenVerifier, roles, type AccessClaims, type AuthConfig, type Role, type TokenVerifier } from './auth.js'
export type { AppendedRange, Attribution, DocStore, HistoryMaintenance, StoredDoc, UpdateEntry } from './store.js'
export {
  DAY_MS,
  DEFAULT_HISTORY,
  VERSION_GAP_MS,
  type ActivityCursor,
  type ActivityQuery,
  type HistoryBounds,
  type HistoryConfig,
  type HistoryOption,
  type HistoryState,
  type VersionRecord,
} from './history.js'
export { DEFAULT_HISTORY_PAGE, MAX_HISTORY_PAGE } from './history-api.js'
export { SqliteDocStore, type SqliteDocStoreOptions } from './sqlite-store.js'
export { WorkerDocStore, type WorkerDocStoreOptions } from './worker-store.js'
export { PostgresDocStore, type PostgresDocStoreOptions } from './postgres-store.js'
export { POSTGRES_SCHEMA_VERSION } from './postgres.js'
export type {
  DevAccountStore,
  DeviceLimit,
  Invalidations,
  KeyBackupStore,
  LiveSessionReport,
  OnlineResult,
  Registry,
  SessionRecord,
  SessionRegistry,
} from './registry.js'
export { SqliteRegistry } from './sqlite-registry.js'
export { PostgresRegistry, type PostgresRegistryOptions } from './postgres-registry.js'
export { noBus, type Bus, type BusHandlers, type ControlEvent, type DocMessage } from './bus.js'
export { RedisBus, type RedisBusOptions } from './redis-bus.js'
export type { HealthReport } from './http-api.js'
export type { DevicePolicy, SessionInfo } from './sessions.js'
export type { DevTokenRequest, DevTokenResponse } from './dev-auth.js'
export { CloseCode, MAX_CLOSE_REASON_BYTES } from './close-codes.js'
export { ConfigError, ProtocolError, RelayError, StorageError, TokenError } from './errors.js'
export { createJsonLogger, silentLogger, type JsonLoggerOptions, type LogFields, type Logger, type LogLevel } from './logger.js'
export type { RelayMetrics } from './metrics.js'
export {
  encodeAck,
  encodeHistoryState,
  MessageType,
  readAck,
  readHistoryState,
  SyncMessageType,
  type Ack,
  type HistoryStateBody,
} from './protocol.js'
export { parseDocName, type DocName } from './doc-name.js'
export { accountSpaceId, grantedRole } from './account-space.js'
