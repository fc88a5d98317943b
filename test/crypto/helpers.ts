/** Accounts, replicas and hand-made records for the keyring tests. */
import * as Y from 'yjs'
import { type JWK } from 'jose'
import { EnvironmentModel, WorkspaceModel } from '@apisync/model'
import {
  type AccountKeys,
  type Keyring,
  type KeyringScope,
  type Me,
  type ParsedRecord,
  type RecordPayload,
  type TrustStore,
  addVariable,
  environmentVariables,
  generateAccountKeys,
  memoryTrustStore,
  readVariables,
  signRecord,
  thumbprint,
  unlockKeyring,
} from '@apisync/crypto'

export const WS = 'ws-main'

export interface Person extends Me {
  readonly keys: AccountKeys & { readonly signing: NonNullable<AccountKeys['signing']> }
}

export const person = async (accountId: string): Promise<Person> => ({ accountId, name: accountId, keys: await generateAccountKeys() })

/** One device: its copy of the manifest and its own pins. */
export interface Device {
  readonly doc: Y.Doc
  readonly manifest: WorkspaceModel
  readonly trust: TrustStore
  readonly scope: KeyringScope
  ring(): Promise<Keyring>
}

export const device = (me: Me, doc = new Y.Doc(), workspaceId = WS, trust: TrustStore = memoryTrustStore()): Device => {
  const manifest = doc.getMap('meta').has('kind') ? WorkspaceModel.open(doc) : WorkspaceModel.create(doc, { id: workspaceId })
  const scope: KeyringScope = { manifest, workspaceId, me, trust }
  return { doc, manifest, trust, scope, ring: () => unlockKeyring(scope) }
}

/** Exchanges everything between docs (both ways). */
export const sync = (...docs: Y.Doc[]) => {
  for (const a of docs) for (const b of docs) if (a !== b) Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)))
}

type Unversioned<R> = R extends RecordPayload ? Omit<R, 'v'> : never

/** A record signed by `signer` with any payload: how an attacker (or a buggy peer) makes one. */
export const craft = async (payload: Unversioned<RecordPayload>, signer: { privateJwk: JWK; publicJwk: JWK }): Promise<ParsedRecord> =>
  signRecord({ v: 1, ...payload } as RecordPayload, { privateJwk: signer.privateJwk, jkt: await thumbprint(signer.publicJwk) })

/** Puts a record into a manifest as a row, as the keyring itself does. */
export const putRecord = (manifest: WorkspaceModel, r: ParsedRecord, list: 'members' | 'keyWraps' = 'members') => {
  if (list === 'members') manifest.addRow('members', { accountId: r.payload.by, name: '', publicKey: null, jws: r.jws })
  else manifest.addRow('keyWraps', { kid: '', createdAt: r.payload.at, accountId: r.payload.by, jwe: '', jws: r.jws })
}

/** Writes a sealed value with a keyring, and reads it back with another. */
export const sealedEnv = async (ring: Keyring, value: string) => {
  const env = EnvironmentModel.create(new Y.Doc(), { name: 'Prod' })
  await addVariable(environmentVariables(env), ring, { key: 'token', value })
  return env
}

export const readEnv = async (env: EnvironmentModel, ring: Keyring) => (await readVariables(environmentVariables(env), ring))[0]!

export const codes = (ring: Keyring) => ring.problems.map((p) => p.code).sort()
