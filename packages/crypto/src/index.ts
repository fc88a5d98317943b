export { checkPublicJwk, generateAccountKeys, publicKeysOf, thumbprint, withSigningKey } from './account-keys.js'
export type { AccountKeys, KeyPair, PublicKeys, SigningAccountKeys } from './account-keys.js'
export { evaluateChain } from './chain.js'
export type { ChainInput, ChainNotice, ChainState, GenerationState, MemberState, Rejection, RejectionCode } from './chain.js'
export { generateDataKey, keyHash, unwrapDataKey, wrapDataKey } from './data-keys.js'
export type { DataKey } from './data-keys.js'
export { CryptoError } from './errors.js'
export type { CryptoErrorCode } from './errors.js'
export {
  acceptKeyChange,
  addMember,
  announceKeys,
  endorseKeys,
  forgetKeyringCaches,
  initWorkspaceKeys,
  maintainKeyring,
  removeMember,
  resignUnsigned,
  rotateKeys,
  setRole,
  trustGenesis,
  unlockKeyring,
} from './keyring.js'
export type {
  Keyring,
  KeyringMember,
  KeyringNotice,
  KeyringProblem,
  KeyringProblemCode,
  KeyringRole,
  KeyringScope,
  KeyringStatus,
  MaintenanceStep,
  Me,
  MemberCard,
} from './keyring.js'
export { RECORD_TYP, canonicalJson, parseRecord, recordId, signRecord } from './records.js'
export type { ParsedRecord, RecordPayload, RecordType } from './records.js'
export { RECOVERY_ITERATIONS, lockAccountKeys, unlockAccountKeys } from './recovery.js'
export { backUpAccountKeys, recoverAccountKeys } from './key-backup.js'
export type { RelayAccess } from './key-backup.js'
export { openValue, sealValue, sealedKid } from './seal.js'
export type { KeySource, Opened } from './seal.js'
export { checkKeyEndorsement, memoryTrustStore, safetyCode, safetyCodeOf } from './trust.js'
export type { KeyEndorsement, KeyPin, TrustStore } from './trust.js'
export {
  addVariable,
  collectionVariables,
  environmentVariables,
  folderVariables,
  openConflict,
  readVariables,
  resealVariables,
  resolveWithValue,
  sealAll,
  sealerFor,
  setVariableType,
  setVariableValue,
  valueContext,
} from './variables.js'
export type { OpenConflict, OpenVariable, SealTarget, Sealer, VariableList } from './variables.js'
