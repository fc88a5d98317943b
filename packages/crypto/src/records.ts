/**
 * Membership and key records: what a workspace's keyring is made of. Each record is an ES256 JWS (compact) by
 * its author's account signing key over a canonical JSON payload that names the workspace (`ws`), the author
 * (`by`) and the records the author had seen (`prev`, by record id), so a record moved to another workspace,
 * altered, or signed by anyone else does not verify, and a record's causal past is part of what is signed.
 * A record's id is the SHA-256 of its JWS: the same record copied twice is one record.
 *
 * This module only builds, signs and parses records; which ones count is decided in chain.ts.
 */
import { CompactSign, type JWK, base64url, decodeProtectedHeader } from 'jose'
import { type PublicKeys, SIGN_ALG, checkPublicJwk, importSigningKey, thumbprint } from './account-keys.js'

export const RECORD_TYP = 'apisync-record'

/** Roles in the keyring (not the relay's access roles): owner > admin > member. */
export type KeyringRole = 'owner' | 'admin' | 'member'
export const POWER: Readonly<Record<KeyringRole, number>> = { owner: 3, admin: 2, member: 1 }

interface Base {
  readonly v: 1
  /** The workspace id. */
  readonly ws: string
  /** The author's account id. */
  readonly by: string
  /** Wall clock of the author, ms: informational, and the tie-break between concurrent generations. */
  readonly at: number
  /** Ids of the records the author had seen last (the heads of its chain), sorted. */
  readonly prev: readonly string[]
}

/**
 * The workspace's first record: its author becomes the owner. `legacy`: the unsigned generations (from before
 * records were signed) it vouches for, kid → SHA-256 of the key, so their unsigned wraps stay readable.
 */
export interface GenesisRecord extends Base {
  readonly t: 'genesis'
  readonly name: string
  readonly keys: Required<PublicKeys>
  readonly legacy?: Readonly<Record<string, string>>
}
/** Makes `sub` a member with `role` and `keys` (an add, a re-add, a role or key change). */
export interface MemberRecord extends Base {
  readonly t: 'member'
  readonly sub: string
  readonly name: string
  readonly role: KeyringRole
  readonly keys: PublicKeys
}
export interface RemoveRecord extends Base {
  readonly t: 'remove'
  readonly sub: string
}
/** A member announcing new keys, signed with the new signing key: grants nothing until an admin endorses it. */
export interface KeysRecord extends Base {
  readonly t: 'keys'
  readonly keys: Required<PublicKeys>
}
/** A new data key generation `kid`, wrapped (JWE) for each listed account. */
export interface GenerationRecord extends Base {
  readonly t: 'generation'
  readonly kid: string
  readonly wraps: Readonly<Record<string, string>>
}
/** Existing generations (`kid` → JWE) wrapped for one more account `sub`. */
export interface ShareRecord extends Base {
  readonly t: 'share'
  readonly sub: string
  readonly wraps: Readonly<Record<string, string>>
}

export type RecordPayload = GenesisRecord | MemberRecord | RemoveRecord | KeysRecord | GenerationRecord | ShareRecord
export type RecordType = RecordPayload['t']
export const MEMBERSHIP_TYPES: ReadonlySet<RecordType> = new Set(['genesis', 'member', 'remove', 'keys'])

/** Payload fields each record type adds to the common ones. */
type Body<T extends RecordPayload> = Omit<T, keyof Base>
export type RecordBody =
  | Body<GenesisRecord>
  | Body<MemberRecord>
  | Body<RemoveRecord>
  | Body<KeysRecord>
  | Body<GenerationRecord>
  | Body<ShareRecord>

/** A record that parsed: its JWS, id, the thumbprint of the key it says it is signed with, and its payload. */
export interface ParsedRecord {
  readonly id: string
  readonly jws: string
  /** RFC 7638 thumbprint of the signing key, from the protected header. */
  readonly jkt: string
  readonly payload: RecordPayload
  /** Thumbprints of the keys the record carries (genesis, member and keys records). */
  readonly keyJkts?: { readonly enc: string; readonly sig?: string }
}

/** JSON with object keys sorted, so that the same record is always the same bytes. */
export const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const o = value as Record<string, unknown>
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(value)
}

export const recordId = async (jws: string): Promise<string> =>
  base64url.encode(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(jws))))

const carriedKeys = async (payload: RecordPayload): Promise<ParsedRecord['keyJkts']> => {
  if (payload.t !== 'genesis' && payload.t !== 'member' && payload.t !== 'keys') return undefined
  const [enc, sig] = await Promise.all([thumbprint(payload.keys.enc), payload.keys.sig ? thumbprint(payload.keys.sig) : undefined])
  return sig ? { enc, sig } : { enc }
}

export const signRecord = async (payload: RecordPayload, signing: { privateJwk: JWK; jkt: string }): Promise<ParsedRecord> => {
  const jws = await new CompactSign(new TextEncoder().encode(canonicalJson(payload)))
    .setProtectedHeader({ alg: SIGN_ALG, typ: RECORD_TYP, kid: signing.jkt })
    .sign(await importSigningKey(signing.privateJwk))
  const keyJkts = await carriedKeys(payload)
  return { id: await recordId(jws), jws, jkt: signing.jkt, payload, ...(keyJkts ? { keyJkts } : {}) }
}

// ------------------------------------------------------------------------------------------------ parsing

/** Why a record was not even considered: it does not parse as a record. */
export class MalformedRecord extends Error {}

const ID = /^[A-Za-z0-9_-]{43}$/
const KID = /^[A-Za-z0-9_-]{1,64}$/
const JWE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
const MAX_ENTRIES = 10_000

const bad = (why: string): never => {
  throw new MalformedRecord(why)
}
const str = (o: Record<string, unknown>, k: string, max = 200, min = 1): string => {
  const v = o[k]
  if (typeof v !== 'string' || v.length < min || v.length > max) bad(`${k} is not a string of ${min}–${max} characters`)
  return v as string
}
const keysOf = (v: unknown, needSig: boolean): PublicKeys => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad('keys is not an object')
  const k = v as Record<string, unknown>
  try {
    const enc = checkPublicJwk(k.enc)
    if (k.sig === undefined) return needSig ? bad('keys.sig is missing') : { enc }
    return { enc, sig: checkPublicJwk(k.sig) }
  } catch {
    return bad('keys are not P-256 public JWKs')
  }
}
const wrapsOf = (v: unknown, key: RegExp): Record<string, string> => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad('wraps is not an object')
  const entries = Object.entries(v as Record<string, unknown>)
  if (entries.length === 0 || entries.length > MAX_ENTRIES) bad('wraps is empty or too large')
  const out: Record<string, string> = {}
  for (const [k, jwe] of entries) {
    if (!key.test(k) || typeof jwe !== 'string' || jwe.length > 4096 || !JWE.test(jwe)) bad('a wrap is not a JWE compact string')
    out[k] = jwe as string
  }
  return out
}
const ACCOUNT = /^[^\u0000-\u001f]{1,200}$/

/** Parses a record (structure only: signatures and authority are checked in chain.ts). Throws MalformedRecord. */
export const parseRecord = async (jws: unknown): Promise<ParsedRecord> => {
  if (typeof jws !== 'string' || jws.length > 1_000_000) bad('not a string')
  const parts = (jws as string).split('.')
  if (parts.length !== 3) bad('not a JWS compact string')
  let header: Record<string, unknown>
  let o: Record<string, unknown>
  try {
    header = decodeProtectedHeader(jws as string) as Record<string, unknown>
    o = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(base64url.decode(parts[1]!))) as Record<string, unknown>
  } catch {
    return bad('not a JWS with a JSON payload')
  }
  if (header.alg !== SIGN_ALG || header.typ !== RECORD_TYP || typeof header.kid !== 'string' || !ID.test(header.kid))
    bad('not an apisync record header')
  if (typeof o !== 'object' || o === null || Array.isArray(o)) bad('the payload is not an object')
  if (o.v !== 1) bad('unknown record version')
  const ws = str(o, 'ws')
  const by = str(o, 'by')
  if (!ACCOUNT.test(by)) bad('by is not an account id')
  const at = o.at
  if (typeof at !== 'number' || !Number.isFinite(at) || at < 0) bad('at is not a time')
  const prev = o.prev
  if (!Array.isArray(prev) || prev.length > 256 || !prev.every((p) => typeof p === 'string' && ID.test(p)) || new Set(prev).size !== prev.length)
    bad('prev is not a list of record ids')
  const base = { v: 1 as const, ws, by, at: at as number, prev: prev as string[] }
  let payload: RecordPayload
  switch (o.t) {
    case 'genesis': {
      const legacy = o.legacy
      if (
        legacy !== undefined &&
        (typeof legacy !== 'object' ||
          legacy === null ||
          Array.isArray(legacy) ||
          Object.keys(legacy).length > MAX_ENTRIES ||
          !Object.entries(legacy).every(([k, h]) => KID.test(k) && typeof h === 'string' && ID.test(h)))
      )
        bad('legacy is not a map of kids to key hashes')
      payload = {
        ...base,
        t: 'genesis',
        name: str(o, 'name', 200, 0),
        keys: keysOf(o.keys, true) as Required<PublicKeys>,
        ...(legacy ? { legacy: legacy as Record<string, string> } : {}),
      }
      break
    }
    case 'member': {
      const role = o.role
      if (role !== 'owner' && role !== 'admin' && role !== 'member') bad('role is not owner, admin or member')
      const sub = str(o, 'sub')
      if (!ACCOUNT.test(sub)) bad('sub is not an account id')
      payload = { ...base, t: 'member', sub, name: str(o, 'name', 200, 0), role: role as KeyringRole, keys: keysOf(o.keys, false) }
      break
    }
    case 'remove':
      payload = { ...base, t: 'remove', sub: str(o, 'sub') }
      break
    case 'keys':
      payload = { ...base, t: 'keys', keys: keysOf(o.keys, true) as Required<PublicKeys> }
      break
    case 'generation': {
      const kid = str(o, 'kid', 64)
      if (!KID.test(kid)) bad('kid is not a key id')
      payload = { ...base, t: 'generation', kid, wraps: wrapsOf(o.wraps, ACCOUNT) }
      break
    }
    case 'share':
      payload = { ...base, t: 'share', sub: str(o, 'sub'), wraps: wrapsOf(o.wraps, KID) }
      break
    default:
      return bad('unknown record type')
  }
  const [id, keyJkts] = await Promise.all([recordId(jws as string), carriedKeys(payload)])
  return { id, jws: jws as string, jkt: header.kid as string, payload, ...(keyJkts ? { keyJkts } : {}) }
}

/** The key a record must verify with if its claim about itself is believed: its own for genesis and keys records. */
export const selfKey = (r: RecordPayload): JWK | undefined => (r.t === 'genesis' || r.t === 'keys' ? r.keys.sig : undefined)
