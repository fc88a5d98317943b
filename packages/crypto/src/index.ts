export { generateAccountKeys } from './account-keys.js'
export type { AccountKeys } from './account-keys.js'
export { generateDataKey, unwrapDataKey, wrapDataKey } from './data-keys.js'
export type { DataKey } from './data-keys.js'
export { CryptoError } from './errors.js'
export type { CryptoErrorCode } from './errors.js'
export { addMember, initWorkspaceKeys, newestKid, removeMember, unlockKeyring } from './keyring.js'
export type { Keyring, Me } from './keyring.js'
export { RECOVERY_ITERATIONS, lockAccountKeys, unlockAccountKeys } from './recovery.js'
export { backUpAccountKeys, recoverAccountKeys } from './key-backup.js'
export type { RelayAccess } from './key-backup.js'
export { openValue, sealValue, sealedKid } from './seal.js'
export type { Opened } from './seal.js'
export {
  addVariable,
  collectionVariables,
  environmentVariables,
  openConflict,
  readVariables,
  resealVariables,
  resolveWithValue,
  setVariableValue,
} from './variables.js'
export type { OpenConflict, OpenVariable, VariableList } from './variables.js'
