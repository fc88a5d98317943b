/**
 * The workspace keyring: the signed membership and key records in the manifest (records.ts), checked from the
 * workspace's genesis (chain.ts) against this device's pins (trust.ts), and the data keys they give this
 * account. Opening never throws on what others wrote: whatever does not verify is left out and listed in
 * `problems`; what a person must judge (a key change, an add racing a removal) is in `notices`.
 *
 * Changing it (adding and removing members, roles, new generations) writes new signed records; only admins
 * and the owner may, and the chain ignores records by anyone else. Removing a member starts a new generation
 * wrapped only for those who remain, so values written afterwards are unreadable to the removed member.
 */
import type { WorkspaceModel, WorkspaceSnapshot } from '@apisync/model'
import { type JWK, compactVerify } from 'jose'
import {
  type AccountKeys,
  type PublicKeys,
  SIGN_ALG,
  type SigningAccountKeys,
  checkPublicJwk,
  importVerifyKey,
  publicKeysOf,
  thumbprint,
} from './account-keys.js'
import { type ChainNotice, type ChainState, type RejectionCode, evaluateChain } from './chain.js'
import { type DataKey, generateDataKey, keyHash, unwrapDataKey, wrapDataKey } from './data-keys.js'
import { CryptoError } from './errors.js'
import {
  type KeyringRole,
  MEMBERSHIP_TYPES,
  POWER,
  type ParsedRecord,
  type RecordBody,
  type RecordPayload,
  parseRecord,
  signRecord,
} from './records.js'
import { type KeyEndorsement, type TrustStore, checkKeyEndorsement, memoryTrustStore, pinKeys, readPin, safetyCodeOf, writePin } from './trust.js'

export type { KeyringRole } from './records.js'

export interface Me {
  readonly accountId: string
  readonly name?: string
  readonly keys: AccountKeys
}

/** Where a keyring lives and who opens it. */
export interface KeyringScope {
  readonly manifest: WorkspaceModel
  /** The id the host addressed the workspace by. Never read from the doc: a peer could change that. */
  readonly workspaceId: string
  readonly me: Me
  /** This device's pins. Default: a new in-memory store, i.e. trust on every first use. */
  readonly trust?: TrustStore
  /** The account's access token: a `cnf.jkt` claim in it is checked against the account's signing key. */
  readonly token?: string
  readonly now?: () => number
}

export type KeyringStatus =
  /** A genesis record this device trusts, and every record checked from it. */
  | 'verified'
  /** Only records from before signing: values stay readable, nothing new is sealed until the owner re-signs. */
  | 'unsigned'
  /** No records yet: `initWorkspaceKeys` makes the first. */
  | 'empty'
  /** Several genesis records and nothing to tell the real one: compare safety codes, then `trustGenesis`. */
  | 'ambiguous'

export interface KeyringMember {
  readonly accountId: string
  readonly name: string
  readonly role: KeyringRole
  readonly keys: PublicKeys
  /** Compare it with the person's own (see `safetyCode`). */
  readonly safetyCode: string
  /** This account's keys differ from the ones this device pinned: someone must compare safety codes. */
  readonly keyChange?: { readonly pinned: string; readonly now: string }
  readonly holdsCurrent: boolean
}

export type KeyringProblemCode = RejectionCode | 'MALFORMED' | 'UNSIGNED' | 'WRAP_DOES_NOT_OPEN'

/** A row (or a record this device remembered) that was left out, and why. */
export interface KeyringProblem {
  readonly list: 'members' | 'keyWraps' | 'remembered'
  readonly rowId: string
  readonly code: KeyringProblemCode
  readonly reason: string
}

export type KeyringNotice =
  | ChainNotice
  | { readonly code: 'KEY_CHANGED'; readonly accountId: string; readonly message: string }
  | { readonly code: 'YOUR_KEYS_DIFFER'; readonly accountId: string; readonly message: string }
  | { readonly code: 'KEYS_ANNOUNCED'; readonly accountId: string; readonly message: string }
  | { readonly code: 'TOKEN_KEY_MISMATCH'; readonly accountId: string; readonly message: string }
  | { readonly code: 'AMBIGUOUS_GENESIS'; readonly accountId?: undefined; readonly message: string }
  | { readonly code: 'NEEDS_ROTATION'; readonly accountId?: undefined; readonly message: string }
  | { readonly code: 'UNSIGNED_RECORDS'; readonly accountId?: undefined; readonly message: string }

export interface Keyring {
  /** The generations this account holds (by kid), current or not: the key of each opens on first use. */
  readonly kids: ReadonlySet<string>
  /** A generation's data key, if this account holds it (unwrapped once, on first use). */
  key(kid: string): Promise<DataKey | undefined>
  /** The generation new values are sealed with, if this account holds it. */
  readonly current: DataKey | undefined
  /** The current generation's kid, held or not. */
  readonly currentKid: string | undefined
  readonly status: KeyringStatus
  /** This account's role, if it is a verified member. */
  readonly role: KeyringRole | undefined
  /** Verified members, owner first. */
  readonly members: readonly KeyringMember[]
  /** Accounts that were members and are removed. */
  readonly removed: readonly string[]
  /** Keys members announced that no admin endorsed yet (see `endorseKeys`). */
  readonly announcements: readonly { readonly accountId: string; readonly safetyCode: string }[]
  /** What was left out and why. A wrap that does not open is added when its generation is first used. */
  readonly problems: readonly KeyringProblem[]
  readonly notices: readonly KeyringNotice[]
  /** What the access token says about this account's signing key (`cnf.jkt`). */
  readonly endorsement: KeyEndorsement['state']
  /** Status `ambiguous`: the genesis records to choose from, by who they claim to be and their keys' safety code. */
  readonly geneses: readonly { readonly accountId: string; readonly safetyCode: string }[]
}

// ------------------------------------------------------------------------------------------------ caches

/** Parsed records by JWS, and signature results by record id: a keyring is opened on every manifest change. */
const parsedCache = new Map<string, Promise<ParsedRecord | Error>>()
const signedCache = new Map<string, Promise<boolean>>()
/** Unwrapped data keys per private key, by JWE. */
const unwrapped = new Map<string, Map<string, Promise<DataKey>>>()
const bounded = <K, V>(m: Map<K, V>, max = 20_000) => {
  if (m.size > max) m.clear()
  return m
}

/**
 * Drops every record, signature result and unwrapped data key this process keeps to open keyrings fast: call it
 * on sign-out, so that no key of the account stays in memory.
 */
export const forgetKeyringCaches = (): void => {
  parsedCache.clear()
  signedCache.clear()
  unwrapped.clear()
  codes.clear()
}

/** Safety codes by key thumbprints. */
const codes = new Map<string, Promise<string>>()
const codeOf = (jkts: { enc: string; sig?: string | undefined }): Promise<string> => {
  const k = `${jkts.sig ?? '-'}:${jkts.enc}`
  let c = codes.get(k)
  if (!c) bounded(codes).set(k, (c = safetyCodeOf(jkts)))
  return c
}

const parseCached = (jws: string): Promise<ParsedRecord | Error> => {
  let p = parsedCache.get(jws)
  if (!p) {
    p = parseRecord(jws).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))))
    bounded(parsedCache).set(jws, p)
  }
  return p
}

const verifyCached = (r: ParsedRecord, key: JWK | undefined): Promise<boolean> => {
  if (!key) return Promise.resolve(false)
  let p = signedCache.get(r.id)
  if (!p) {
    p = importVerifyKey(key, r.jkt)
      .then((k) => compactVerify(r.jws, k, { algorithms: [SIGN_ALG] }))
      .then(
        () => true,
        () => false,
      )
    bounded(signedCache).set(r.id, p)
  }
  return p
}

const unwrapCached = (jwe: string, privateJwk: JWK): Promise<DataKey> => {
  const owner = `${privateJwk.x}.${privateJwk.d}`
  let m = unwrapped.get(owner)
  if (!m) bounded(unwrapped, 100).set(owner, (m = new Map()))
  let p = m.get(jwe)
  if (!p) {
    p = unwrapDataKey(jwe, privateJwk)
    bounded(m).set(jwe, p)
    p.catch(() => m!.delete(jwe))
  }
  return p
}

// ------------------------------------------------------------------------------------------------ opening

interface RowRef {
  readonly list: 'members' | 'keyWraps' | 'remembered'
  readonly rowId: string
}

/** Everything a change needs besides the keyring itself. */
interface Opened {
  readonly ring: Keyring
  readonly chain: ChainState | undefined
  readonly root: ParsedRecord | undefined
  readonly trust: TrustStore
  readonly legacyKeys: ReadonlyMap<string, DataKey>
  readonly legacyMembers: readonly { accountId: string; name: string; publicJwk: JWK }[]
  readonly geneses: readonly { readonly accountId: string; readonly safetyCode: string; readonly recordId: string }[]
  /** Records this device remembers that are missing from the doc (the relay or a peer dropped them). */
  readonly missing: readonly ParsedRecord[]
}

const defaultTrust = new WeakMap<KeyringScope, TrustStore>()
const trustOf = (scope: KeyringScope): TrustStore => {
  if (scope.trust) return scope.trust
  let t = defaultTrust.get(scope)
  if (!t) defaultTrust.set(scope, (t = memoryTrustStore()))
  return t
}

const sameJkts = (a: { enc: string; sig?: string | undefined }, b: { enc: string; sig?: string | undefined }) => a.enc === b.enc && a.sig === b.sig

async function open(scope: KeyringScope): Promise<Opened> {
  const { manifest, workspaceId, me } = scope
  const trust = trustOf(scope)
  const snap: WorkspaceSnapshot = manifest.snapshot()
  const problems: KeyringProblem[] = []
  const notices: KeyringNotice[] = []
  const myJkts = {
    enc: await thumbprint(me.keys.publicJwk).catch(() => ''),
    sig: me.keys.signing ? await thumbprint(me.keys.signing.publicJwk).catch(() => undefined) : undefined,
  }

  // Every signed row, parsed (junk is a problem, never a throw), and the records this device remembers.
  const rows: { ref: RowRef; jws: string }[] = []
  for (const m of snap.members) if (m.jws) rows.push({ ref: { list: 'members', rowId: m.id }, jws: m.jws })
  for (const w of snap.keyWraps) if (w.jws) rows.push({ ref: { list: 'keyWraps', rowId: w.id }, jws: w.jws })
  let remembered: string[] = []
  try {
    const raw = await trust.get(pinKeys.records(workspaceId))
    const list = raw ? (JSON.parse(raw) as unknown) : []
    if (Array.isArray(list)) remembered = list.filter((x): x is string => typeof x === 'string')
  } catch {
    remembered = []
  }
  const parsed = await Promise.all(rows.map((r) => parseCached(r.jws)))
  const records = new Map<string, ParsedRecord>()
  const refsOf = new Map<string, RowRef[]>()
  parsed.forEach((p, i) => {
    const ref = rows[i]!.ref
    if (p instanceof Error) return void problems.push({ ...ref, code: 'MALFORMED', reason: p.message })
    records.set(p.id, p)
    refsOf.set(p.id, [...(refsOf.get(p.id) ?? []), ref])
  })
  const inDoc = new Set(records.keys())
  const missing: ParsedRecord[] = []
  for (const p of await Promise.all(remembered.map(parseCached))) {
    if (p instanceof Error || records.has(p.id)) continue
    records.set(p.id, p)
    refsOf.set(p.id, [{ list: 'remembered', rowId: p.id }])
    missing.push(p)
  }
  const all = [...records.values()]

  // Signatures, all at once: each record against the key its header names, among the keys records carry.
  const keyByJkt = new Map<string, JWK>()
  for (const r of all) if (r.keyJkts?.sig && 'keys' in r.payload && r.payload.keys.sig) keyByJkt.set(r.keyJkts.sig, r.payload.keys.sig)
  // Signatures this device verified before (the ids are hashes of the whole JWS) need no second check.
  const verifiedBefore = new Set<string>()
  try {
    const raw = await trust.get(pinKeys.verified(workspaceId))
    const list = raw ? (JSON.parse(raw) as unknown) : []
    if (Array.isArray(list)) for (const id of list) if (typeof id === 'string') verifiedBefore.add(id)
  } catch {
    // nothing remembered
  }
  const signedIds = new Set<string>()
  await Promise.all(
    all.map(async (r) => {
      if (verifiedBefore.has(r.id) || (await verifyCached(r, keyByJkt.get(r.jkt)))) signedIds.add(r.id)
    }),
  )
  if ([...signedIds].some((id) => !verifiedBefore.has(id)) || verifiedBefore.size > signedIds.size)
    await trust.set(pinKeys.verified(workspaceId), JSON.stringify([...signedIds]))
  const signed = (r: ParsedRecord) => signedIds.has(r.id)

  // The root: the pinned genesis; else mine; else the only one (or the only one matching pinned keys).
  const geneses = all.filter((r) => r.payload.t === 'genesis' && r.payload.ws === workspaceId && r.jkt === r.keyJkts?.sig && signed(r))
  const pinnedRoot = await trust.get(pinKeys.root(workspaceId))
  let root: ParsedRecord | undefined
  let ambiguous = false
  if (pinnedRoot) root = geneses.find((g) => g.id === pinnedRoot)
  if (!root && !pinnedRoot && geneses.length) {
    const bySmallestId = (xs: ParsedRecord[]) => [...xs].sort((a, b) => (a.id < b.id ? -1 : 1))[0]
    const signers = new Set(geneses.map((g) => g.jkt))
    const mine = geneses.filter((g) => g.payload.by === me.accountId && g.jkt === myJkts.sig)
    if (mine.length) root = bySmallestId(mine)
    else if (signers.size === 1) root = bySmallestId(geneses)
    else {
      const pinnedMatch: ParsedRecord[] = []
      for (const g of geneses) {
        const pin = await readPin(trust, g.payload.by)
        if (pin && pin.sig === g.keyJkts!.sig) pinnedMatch.push(g)
      }
      if (new Set(pinnedMatch.map((g) => g.jkt)).size === 1) root = bySmallestId(pinnedMatch)
      else ambiguous = true
    }
  }
  if (pinnedRoot && !root && all.length) ambiguous = true
  const endorsement: KeyEndorsement = scope.token ? await checkKeyEndorsement(scope.token, me.keys) : { state: 'none' }
  if (endorsement.state === 'mismatch')
    notices.push({
      code: 'TOKEN_KEY_MISMATCH',
      accountId: me.accountId,
      message: `your sign-in says your account's key is ${endorsement.jkt.slice(0, 12)}…, but this device holds ${endorsement.held?.slice(0, 12) ?? 'no signing key'}: recover the right key before trusting this device's keys`,
    })

  const chain = root ? evaluateChain({ records: all, workspaceId, rootId: root.id, signed }) : undefined
  for (const [id, why] of chain?.rejected ?? [])
    for (const ref of refsOf.get(id) ?? []) problems.push({ ...ref, code: why.code, reason: why.reason })
  if (!chain)
    for (const r of all)
      for (const ref of refsOf.get(r.id) ?? [])
        problems.push({
          ...ref,
          code: r.payload.ws !== workspaceId ? 'OTHER_WORKSPACE' : signed(r) ? 'NOT_IN_CHAIN' : 'BAD_SIGNATURE',
          reason: ambiguous ? 'no genesis record is trusted yet' : 'not part of a chain this device trusts',
        })
  if (ambiguous)
    notices.push({
      code: 'AMBIGUOUS_GENESIS',
      message: `this workspace holds ${geneses.length} genesis records and this device cannot tell which is real: compare safety codes with the owner`,
    })

  // Unsigned rows: before any signed record they make the keyring (readable, never sealed with); after the
  // owner re-signed, only generations the genesis vouches for (by key hash) stay readable.
  const legacyRows = snap.keyWraps.filter((w) => !w.jws)
  const vouched = root?.payload.t === 'genesis' ? (root.payload.legacy ?? {}) : undefined
  const legacyKeys = new Map<string, DataKey>()
  await Promise.all(
    legacyRows.map(async (w) => {
      if (w.accountId !== me.accountId) return
      if (vouched && !Object.hasOwn(vouched, w.kid)) return
      try {
        const key = await unwrapCached(w.jwe, me.keys.privateJwk)
        if (key.kid !== w.kid) throw new Error(`it names ${w.kid} but holds ${key.kid}`)
        if (vouched && (await keyHash(key)) !== vouched[w.kid]) throw new Error('it is not the key the genesis record vouches for')
        if (!legacyKeys.has(w.kid)) legacyKeys.set(w.kid, key)
      } catch (e) {
        problems.push({ list: 'keyWraps', rowId: w.id, code: 'WRAP_DOES_NOT_OPEN', reason: (e as Error).message })
      }
    }),
  )
  if (chain || ambiguous) {
    for (const m of snap.members) if (!m.jws) problems.push({ list: 'members', rowId: m.id, code: 'UNSIGNED', reason: 'an unsigned row from before signing: ignored' })
    for (const w of legacyRows)
      if (!vouched || !Object.hasOwn(vouched, w.kid)) problems.push({ list: 'keyWraps', rowId: w.id, code: 'UNSIGNED', reason: 'an unsigned row from before signing: ignored' })
  }
  const legacyMembers = snap.members
    .filter((m) => !m.jws && m.publicKey && m.accountId)
    .map((m) => ({ accountId: m.accountId, name: m.name, publicJwk: m.publicKey as unknown as JWK }))

  // This account's data keys: wraps from valid records; and generations this account signed itself as an
  // admin that fell outside the chain (a second genesis it raced itself with, or a generation revoked by a
  // concurrent removal): its own, so trustworthy to it for reading what it sealed with them. Each is unwrapped
  // on first use (an ECDH agreement each: a keyring of many generations opens with the current one only).
  const ownOutside = (r: ParsedRecord) => {
    const why = chain?.rejected.get(r.id)?.code
    return why !== 'UNAUTHORIZED' && why !== 'BAD_SIGNATURE' && why !== 'DUPLICATE_KID'
  }
  const held = new Map<string, { jwe: string; ref: RowRef }[]>()
  const hold = (kid: string, jwe: string, ref: RowRef) => held.set(kid, [...(held.get(kid) ?? []), { jwe, ref }])
  if (chain)
    for (const [kid, jwes] of chain.wrapsFor(me.accountId)) {
      const rec = chain.generations.get(kid)
      for (const jwe of jwes) hold(kid, jwe, refsOf.get(rec?.recordId ?? '')?.[0] ?? { list: 'keyWraps', rowId: kid })
    }
  if (myJkts.sig)
    for (const r of all)
      if (r.payload.t === 'generation' && r.payload.by === me.accountId && r.jkt === myJkts.sig && signed(r) && !chain?.valid.has(r.id) && ownOutside(r)) {
        const jwe = r.payload.wraps[me.accountId]
        if (jwe) hold(r.payload.kid, jwe, refsOf.get(r.id)![0]!)
      }
  const keys = new Map<string, Promise<DataKey | undefined>>()
  for (const [kid, key] of legacyKeys) keys.set(kid, Promise.resolve(key))
  const key = (kid: string): Promise<DataKey | undefined> => {
    let k = keys.get(kid)
    if (!k) {
      k = (async () => {
        for (const w of held.get(kid) ?? []) {
          try {
            const dk = await unwrapCached(w.jwe, me.keys.privateJwk)
            if (dk.kid !== kid) throw new Error(`a wrap of ${kid} holds ${dk.kid}`)
            return dk
          } catch (e) {
            problems.push({ ...w.ref, code: 'WRAP_DOES_NOT_OPEN', reason: (e as Error).message })
          }
        }
        return undefined
      })()
      keys.set(kid, k)
    }
    return k
  }
  const kids = new Set<string>([...legacyKeys.keys(), ...held.keys()])
  const current = chain?.currentKid === undefined ? undefined : await key(chain.currentKid)

  // Members, their safety codes, and the keys this device pinned for them.
  const members: KeyringMember[] = []
  if (chain) {
    for (const n of chain.notices) notices.push(n)
    const list = [...chain.members.values()].sort((a, b) => POWER[b.role] - POWER[a.role] || (a.accountId < b.accountId ? -1 : 1))
    const seen = await Promise.all(
      list.map(async (m) => {
        const jkts = { enc: m.encJkt, sig: m.sigJkt }
        const [code, pin] = await Promise.all([codeOf(jkts), readPin(trust, m.accountId)])
        if (!pin) await writePin(trust, m.accountId, { ...jkts, code })
        return { m, code, changed: pin && !sameJkts(pin, jkts) ? { pinned: pin.code, now: code } : undefined }
      }),
    )
    for (const { m, code, changed } of seen) {
      if (changed)
        notices.push({
          code: 'KEY_CHANGED',
          accountId: m.accountId,
          message: `${m.name || m.accountId}'s keys changed (safety code ${changed.pinned} → ${changed.now}): compare the new code with them before trusting it`,
        })
      members.push({
        accountId: m.accountId,
        name: m.name,
        role: m.role,
        keys: m.keys,
        safetyCode: code,
        ...(changed ? { keyChange: changed } : {}),
        holdsCurrent: chain.currentKid !== undefined && !chain.missingCurrent.includes(m.accountId),
      })
    }
    const mine = chain.members.get(me.accountId)
    if (mine && !sameJkts({ enc: mine.encJkt, sig: mine.sigJkt }, myJkts))
      notices.push({
        code: 'YOUR_KEYS_DIFFER',
        accountId: me.accountId,
        message: 'this workspace knows other keys for your account than this device holds: an admin must endorse your keys (announceKeys) before you can sign changes',
      })
    for (const a of chain.announcements)
      notices.push({ code: 'KEYS_ANNOUNCED', accountId: a.accountId, message: `${a.accountId} announced new keys: an admin compares their safety code and endorses them` })
    if (chain.currentKid === undefined && chain.members.size > 0)
      notices.push({ code: 'NEEDS_ROTATION', message: 'no key generation is safe to seal new values with: an admin starts a new one' })
  }
  const status: KeyringStatus = chain ? 'verified' : ambiguous ? 'ambiguous' : legacyRows.length || legacyMembers.length ? 'unsigned' : 'empty'
  if (status === 'unsigned')
    notices.push({ code: 'UNSIGNED_RECORDS', message: "this workspace's keys were made before records were signed: values open, but nothing new is sealed until its owner re-signs them" })

  // Remember the membership records that count, and the root, so that dropping them from the doc changes nothing here.
  if (chain && root) {
    if (!pinnedRoot) await trust.set(pinKeys.root(workspaceId), root.id)
    const keep = all.filter((r) => chain.valid.has(r.id) && MEMBERSHIP_TYPES.has(r.payload.t)).map((r) => r.jws)
    if (keep.length !== remembered.length || keep.some((j, i) => j !== remembered[i])) await trust.set(pinKeys.records(workspaceId), JSON.stringify(keep))
  }

  const currentKid = chain?.currentKid
  const announcements = chain
    ? await Promise.all(chain.announcements.map(async (a) => ({ accountId: a.accountId, safetyCode: await codeOf({ enc: a.encJkt, sig: a.sigJkt }) })))
    : []
  const genesisList = ambiguous
    ? await Promise.all(
        geneses.map(async (g) => ({ accountId: g.payload.by, safetyCode: await codeOf(g.keyJkts!), recordId: g.id })),
      )
    : []
  const ring: Keyring = {
    geneses: genesisList.map(({ accountId, safetyCode }) => ({ accountId, safetyCode })),
    kids,
    key,
    current,
    currentKid,
    status,
    role: chain?.members.get(me.accountId)?.role,
    members,
    removed: chain ? [...chain.removed].sort() : [],
    announcements,
    problems,
    notices,
    endorsement: endorsement.state,
  }
  return { ring, chain, root, trust, legacyKeys, legacyMembers, geneses: genesisList, missing: missing.filter((r) => !inDoc.has(r.id)) }
}

/** Opens the keyring as this account sees it. Never throws because of what is in the manifest. */
export const unlockKeyring = async (scope: KeyringScope): Promise<Keyring> => (await open(scope)).ring

// ------------------------------------------------------------------------------------------------ changing

const signer = async (me: Me): Promise<{ keys: SigningAccountKeys; jkt: string }> => {
  if (!me.keys.signing) throw new CryptoError('BAD_KEY', 'this account has no signing key yet: add one with withSigningKey (and back the keys up again)')
  return { keys: me.keys as SigningAccountKeys, jkt: await thumbprint(me.keys.signing.publicJwk) }
}

/** Signs records one after another (each follows the previous), and writes them in one transaction. */
async function write(scope: KeyringScope, heads: readonly string[], bodies: readonly RecordBody[]): Promise<ParsedRecord[]> {
  const { keys, jkt } = await signer(scope.me)
  const now = scope.now ?? Date.now
  const out: ParsedRecord[] = []
  let prev = [...heads].sort()
  for (const body of bodies) {
    const payload = { v: 1, ws: scope.workspaceId, by: scope.me.accountId, at: now(), prev, ...body } as RecordPayload
    const r = await signRecord(payload, { privateJwk: keys.signing.privateJwk, jkt })
    out.push(r)
    prev = [r.id]
  }
  putRows(scope.manifest, out)
  return out
}

/** Writes records as manifest rows (display copies of who and what, the JWS being the truth). */
const putRows = (manifest: WorkspaceModel, records: readonly ParsedRecord[]) => {
  manifest.transact(() => {
    for (const r of records) {
      const p = r.payload
      if (MEMBERSHIP_TYPES.has(p.t)) {
        const sub = p.t === 'member' || p.t === 'remove' ? p.sub : p.by
        const name = p.t === 'member' || p.t === 'genesis' ? p.name : ''
        const enc = p.t === 'member' || p.t === 'genesis' || p.t === 'keys' ? (p.keys.enc as never) : null
        manifest.addRow('members', { accountId: sub, name, publicKey: enc, jws: r.jws })
      } else {
        manifest.addRow('keyWraps', {
          kid: p.t === 'generation' ? p.kid : '',
          createdAt: p.at,
          accountId: p.t === 'share' ? p.sub : p.by,
          jwe: '',
          jws: r.jws,
        })
      }
    }
  })
}

const wrapAll = async (key: DataKey, to: readonly { accountId: string; enc: JWK }[]): Promise<Record<string, string>> => {
  const wraps: Record<string, string> = {}
  await Promise.all(to.map(async (m) => void (wraps[m.accountId] = await wrapDataKey(key, m.enc))))
  return wraps
}

const requireVerified = (o: Opened): ChainState => {
  if (!o.chain) throw new CryptoError('NOT_VERIFIED', `the keyring is ${o.ring.status}: there is no verified chain to change`)
  return o.chain
}

const requireAdmin = (o: Opened, me: Me): ChainState => {
  const chain = requireVerified(o)
  const role = chain.members.get(me.accountId)?.role
  if (!role || POWER[role] < POWER.admin) throw new CryptoError('NOT_ALLOWED', 'only the owner and admins change members and keys')
  const mine = chain.members.get(me.accountId)!
  if (mine.sigJkt === undefined) throw new CryptoError('NOT_ALLOWED', 'your signing key is not endorsed in this workspace yet')
  return chain
}

/**
 * The members new keys are wrapped for: all of them, except others whose keys changed since this device pinned
 * them and nobody here accepted the change (they get the key shared once accepted: see `maintainKeyring`).
 */
const recipients = (o: Opened, chain: ChainState, me: Me) =>
  [...chain.members.values()]
    .filter((m) => m.accountId === me.accountId || !o.ring.members.find((x) => x.accountId === m.accountId)?.keyChange)
    .map((m) => ({ accountId: m.accountId, enc: m.keys.enc }))

/**
 * Makes `me` the owner of a workspace with no records (its genesis) and creates the first data key. On a
 * workspace that has records it only opens the keyring.
 */
export const initWorkspaceKeys = async (scope: KeyringScope): Promise<Keyring> => {
  const o = await open(scope)
  if (o.ring.status !== 'empty') return o.ring
  const { keys } = await signer(scope.me)
  const key = generateDataKey()
  const pub = publicKeysOf(keys) as Required<PublicKeys>
  const [genesis] = await write(scope, [], [{ t: 'genesis', name: scope.me.name ?? '', keys: pub }])
  await trustOf(scope).set(pinKeys.root(scope.workspaceId), genesis!.id)
  await write(scope, [genesis!.id], [{ t: 'generation', kid: key.kid, wraps: await wrapAll(key, [{ accountId: scope.me.accountId, enc: pub.enc }]) }])
  return unlockKeyring(scope)
}

/** Another account, as its owner hands it over (e.g. a member code): its id and public keys. */
export interface MemberCard {
  readonly accountId: string
  readonly name?: string
  /** Its keys; `{ enc }` alone for an account from before signing (it cannot sign until it announces keys). */
  readonly keys: PublicKeys
}

/**
 * Admins: makes an account a member with `role` (also re-adds a removed one, or changes keys), and shares
 * every generation `me` holds with it, so it can read existing values.
 */
export const addMember = async (scope: KeyringScope, card: MemberCard, role: 'admin' | 'member' = 'member'): Promise<Keyring> => {
  const o = await open(scope)
  const chain = requireAdmin(o, scope.me)
  const keys: PublicKeys = card.keys.sig ? { enc: checkPublicJwk(card.keys.enc), sig: checkPublicJwk(card.keys.sig) } : { enc: checkPublicJwk(card.keys.enc) }
  const myPower = POWER[chain.members.get(scope.me.accountId)!.role]
  if (POWER[role] > myPower) throw new CryptoError('NOT_ALLOWED', `you cannot grant the ${role} role`)
  const existing = chain.members.get(card.accountId)
  if (existing && card.accountId !== scope.me.accountId && POWER[existing.role] >= myPower)
    throw new CryptoError('NOT_ALLOWED', `you cannot change ${card.accountId}, whose role is not below yours`)
  const bodies: RecordBody[] = [{ t: 'member', sub: card.accountId, name: card.name ?? existing?.name ?? '', role, keys }]
  const held = (await Promise.all([...o.ring.kids].filter((kid) => chain.generations.has(kid)).map((kid) => o.ring.key(kid)))).filter(
    (k): k is DataKey => k !== undefined,
  )
  if (held.length) {
    const wraps: Record<string, string> = {}
    await Promise.all(held.map(async (k) => void (wraps[k.kid] = await wrapDataKey(k, keys.enc))))
    bodies.push({ t: 'share', sub: card.accountId, wraps })
  }
  await write(scope, chain.heads, bodies)
  return unlockKeyring(scope)
}

/**
 * Admins: removes a member, and starts a new generation wrapped only for those who remain. Values sealed
 * before stay readable to the removed member until re-sealed (see `resealVariables`).
 */
export const removeMember = async (scope: KeyringScope, accountId: string): Promise<Keyring> => {
  const o = await open(scope)
  const chain = requireAdmin(o, scope.me)
  if (accountId === scope.me.accountId) throw new CryptoError('NOT_ALLOWED', 'remove yourself by leaving, not by removal')
  const target = chain.members.get(accountId)
  if (!target) throw new CryptoError('NOT_ALLOWED', `${accountId} is not a member`)
  if (POWER[target.role] >= POWER[chain.members.get(scope.me.accountId)!.role])
    throw new CryptoError('NOT_ALLOWED', `you cannot remove ${accountId}, whose role is not below yours`)
  const key = generateDataKey()
  const wraps = await wrapAll(key, recipients(o, chain, scope.me).filter((m) => m.accountId !== accountId))
  await write(scope, chain.heads, [
    { t: 'remove', sub: accountId },
    { t: 'generation', kid: key.kid, wraps },
  ])
  return unlockKeyring(scope)
}

/** Admins: changes a member's role (the owner makes admins; admins change members). */
export const setRole = async (scope: KeyringScope, accountId: string, role: 'admin' | 'member'): Promise<Keyring> => {
  const o = await open(scope)
  const chain = requireAdmin(o, scope.me)
  const m = chain.members.get(accountId)
  if (!m) throw new CryptoError('NOT_ALLOWED', `${accountId} is not a member`)
  return addMember(scope, { accountId, name: m.name, keys: m.keys }, role)
}

/** Admins: a new generation for the current members (after a key change, or to retire a stale one). */
export const rotateKeys = async (scope: KeyringScope): Promise<Keyring> => {
  const o = await open(scope)
  const chain = requireAdmin(o, scope.me)
  const key = generateDataKey()
  await write(scope, chain.heads, [{ t: 'generation', kid: key.kid, wraps: await wrapAll(key, recipients(o, chain, scope.me)) }])
  return unlockKeyring(scope)
}

/**
 * Publishes this account's keys (signed with its signing key) when the workspace knows other ones for it, e.g.
 * after an older backup got a signing key. It grants nothing: an admin endorses it (`endorseKeys`) after
 * comparing safety codes, and every device that pinned the old keys shows the change.
 */
export const announceKeys = async (scope: KeyringScope): Promise<Keyring> => {
  const o = await open(scope)
  const chain = requireVerified(o)
  const { keys } = await signer(scope.me)
  if (!chain.members.has(scope.me.accountId)) throw new CryptoError('NOT_ALLOWED', 'only members announce keys')
  await write(scope, chain.heads, [{ t: 'keys', keys: publicKeysOf(keys) as Required<PublicKeys> }])
  return unlockKeyring(scope)
}

/** Admins: endorses the keys a member announced (after comparing their safety code with them). */
export const endorseKeys = async (scope: KeyringScope, accountId: string): Promise<Keyring> => {
  const o = await open(scope)
  const chain = requireAdmin(o, scope.me)
  const a = chain.announcements.find((x) => x.accountId === accountId)
  const m = chain.members.get(accountId)
  if (!a || !m) throw new CryptoError('NOT_ALLOWED', `${accountId} announced no keys`)
  if (m.role === 'owner') throw new CryptoError('NOT_ALLOWED', "nobody endorses the owner's keys: the owner signs its own key change")
  return addMember(scope, { accountId, name: m.name, keys: a.keys }, m.role)
}

/** Accepts a member's changed keys on this device (after comparing safety codes): the warning goes. */
export const acceptKeyChange = async (scope: KeyringScope, accountId: string): Promise<Keyring> => {
  const o = await open(scope)
  const m = o.chain?.members.get(accountId)
  if (!m) throw new CryptoError('NOT_ALLOWED', `${accountId} is not a member`)
  await writePin(o.trust, accountId, { enc: m.encJkt, ...(m.sigJkt ? { sig: m.sigJkt } : {}), code: await codeOf({ enc: m.encJkt, sig: m.sigJkt }) })
  return unlockKeyring(scope)
}

/**
 * Trusts one of several genesis records (status `ambiguous`: see `Keyring.geneses`): the one whose author's
 * safety code is the one the owner reads out to you.
 */
export const trustGenesis = async (scope: KeyringScope, ownerSafetyCode: string): Promise<Keyring> => {
  const o = await open(scope)
  const g = o.geneses.find((x) => x.safetyCode === ownerSafetyCode.trim())
  if (!g) throw new CryptoError('NOT_ALLOWED', 'no genesis record of this workspace has that safety code')
  await trustOf(scope).set(pinKeys.root(scope.workspaceId), g.recordId)
  return unlockKeyring(scope)
}

/**
 * The owner's device, on a workspace whose records are unsigned (made before signing): signs a genesis that
 * vouches for the old generations it holds, re-signs the listed members (default: every unsigned member row;
 * review them first: unsigned rows may have been written by anyone), and starts a new generation for them.
 */
export const resignUnsigned = async (scope: KeyringScope, options: { readonly members?: readonly string[] } = {}): Promise<Keyring> => {
  const o = await open(scope)
  if (o.ring.status !== 'unsigned') throw new CryptoError('NOT_VERIFIED', `the keyring is ${o.ring.status}, not unsigned`)
  if (o.legacyKeys.size === 0) throw new CryptoError('NOT_ALLOWED', 'this account holds none of the workspace keys: the owner re-signs')
  const { keys } = await signer(scope.me)
  const pub = publicKeysOf(keys) as Required<PublicKeys>
  const legacy: Record<string, string> = {}
  for (const [kid, key] of o.legacyKeys) legacy[kid] = await keyHash(key)
  const chosen = new Set(options.members ?? o.legacyMembers.map((m) => m.accountId))
  const seen = new Set<string>([scope.me.accountId])
  const others: { accountId: string; name: string; enc: JWK }[] = []
  for (const m of o.legacyMembers) {
    if (!chosen.has(m.accountId) || seen.has(m.accountId)) continue
    try {
      others.push({ accountId: m.accountId, name: m.name, enc: checkPublicJwk(m.publicJwk) })
      seen.add(m.accountId)
    } catch {
      // a junk key: not re-signed
    }
  }
  const [genesis] = await write(scope, [], [{ t: 'genesis', name: scope.me.name ?? '', keys: pub, legacy }])
  await trustOf(scope).set(pinKeys.root(scope.workspaceId), genesis!.id)
  const key = generateDataKey()
  const bodies: RecordBody[] = others.map((m) => ({ t: 'member', sub: m.accountId, name: m.name, role: 'member', keys: { enc: m.enc } }))
  bodies.push({ t: 'generation', kid: key.kid, wraps: await wrapAll(key, [{ accountId: scope.me.accountId, enc: pub.enc }, ...others]) })
  await write(scope, [genesis!.id], bodies)
  return unlockKeyring(scope)
}

export type MaintenanceStep = 'republished' | 'announced' | 'rotated' | 'shared'

/**
 * What a device does after opening a workspace it may write: puts back records this device remembers that
 * went missing from the doc; announces this account's keys if the workspace knows others; and, for admins,
 * starts a generation when none is safe to seal with and shares the current one with members who lack it —
 * except members whose keys changed and nobody on this device compared the safety codes yet.
 */
export const maintainKeyring = async (scope: KeyringScope): Promise<{ readonly ring: Keyring; readonly done: readonly MaintenanceStep[] }> => {
  const done: MaintenanceStep[] = []
  let o = await open(scope)
  if (o.missing.length) {
    putRows(scope.manifest, o.missing)
    done.push('republished')
    o = await open(scope)
  }
  const chain = o.chain
  if (!chain || !scope.me.keys.signing) return { ring: o.ring, done }
  const mine = chain.members.get(scope.me.accountId)
  if (!mine) return { ring: o.ring, done }
  const sig = await thumbprint(scope.me.keys.signing.publicJwk)
  const enc = await thumbprint(scope.me.keys.publicJwk)
  if ((mine.sigJkt !== sig || mine.encJkt !== enc) && !chain.announcements.some((a) => a.accountId === scope.me.accountId && a.sigJkt === sig)) {
    await announceKeys(scope)
    return { ring: await unlockKeyring(scope), done: [...done, 'announced'] }
  }
  if (POWER[mine.role] < POWER.admin || mine.sigJkt !== sig) return { ring: o.ring, done }
  if (chain.currentKid === undefined && chain.members.size) {
    await rotateKeys(scope)
    done.push('rotated')
    o = await open(scope)
  }
  const c = o.chain!
  const current = o.ring.current
  const waiting = c.missingCurrent.filter((x) => !o.ring.members.find((m) => m.accountId === x)?.keyChange)
  if (current && waiting.length) {
    const bodies: RecordBody[] = []
    for (const accountId of waiting) {
      const m = c.members.get(accountId)!
      bodies.push({ t: 'share', sub: accountId, wraps: { [current.kid]: await wrapDataKey(current, m.keys.enc) } })
    }
    // Each share follows the heads, not the previous share: they are independent.
    const { keys, jkt } = await signer(scope.me)
    const now = scope.now ?? Date.now
    const records = await Promise.all(
      bodies.map((body) =>
        signRecord({ v: 1, ws: scope.workspaceId, by: scope.me.accountId, at: now(), prev: [...c.heads], ...body } as RecordPayload, {
          privateJwk: keys.signing.privateJwk,
          jkt,
        }),
      ),
    )
    putRows(scope.manifest, records)
    done.push('shared')
    o = await open(scope)
  }
  return { ring: o.ring, done }
}
