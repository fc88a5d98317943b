/**
 * The chain of authority: which records count, and what they add up to (members, roles, keys, the current
 * data-key generation). A pure function of the set of records, so every replica that holds the same records
 * decides the same, whatever order they arrived in. The rules (docs/architecture.md, "Signed records"):
 *
 * - Records form a DAG through `prev`. A record is judged by its causal past: its author must hold the power
 *   it needs in the membership state made by the valid records it had seen, and it must be signed with the
 *   signing key that state gives the author.
 * - Powers: owner (the genesis author) > admin > member. Admins and the owner add members, remove and change
 *   those below them, start generations and share them; anyone may change their own keys (signed with their
 *   current signing key) or leave; nobody removes the owner.
 * - The state of an account is decided by its latest membership records (those no other of its records has
 *   seen). If one of them is a removal, the account is removed: a concurrent add or change never undoes a
 *   removal (a notice says so, for an admin to decide). Concurrent role changes keep the lowest role.
 * - A record whose author is concurrently removed (or demoted below what the record needs) does not count.
 * - A generation is stale when it is wrapped for someone its author should not have wrapped for: a non-member,
 *   an account removed by a removal the generation had not seen, or an account whose key changed since. The
 *   current generation is the newest non-stale one (causally; concurrent ones by time, then id).
 */
import type { PublicKeys } from './account-keys.js'
import { type KeyringRole, POWER, type ParsedRecord, type RecordPayload } from './records.js'

export type RejectionCode =
  | 'OTHER_WORKSPACE' // signed for another workspace
  | 'MISSING_PREV' // names an earlier record that is not here
  | 'NOT_IN_CHAIN' // does not descend from this workspace's genesis
  | 'OTHER_GENESIS' // a second genesis
  | 'BAD_SIGNATURE' // not signed by its author's signing key
  | 'UNAUTHORIZED' // its author lacked the power it needs
  | 'REVOKED' // its author was concurrently removed or demoted
  | 'DUPLICATE_KID' // a generation id already used

export interface Rejection {
  readonly code: RejectionCode
  readonly reason: string
}

export interface MemberState {
  readonly accountId: string
  readonly name: string
  readonly role: KeyringRole
  readonly keys: PublicKeys
  readonly encJkt: string
  readonly sigJkt: string | undefined
}

export interface GenerationState {
  readonly kid: string
  readonly recordId: string
  readonly by: string
  readonly at: number
  readonly recipients: readonly string[]
  /** Why it must not seal new values, if so. */
  readonly stale?: string
}

export type ChainNotice =
  | { readonly code: 'ADD_REMOVE_CONFLICT'; readonly accountId: string; readonly message: string }
  | { readonly code: 'KEYS_CONFLICT'; readonly accountId: string; readonly message: string }
  | { readonly code: 'ROLE_CONFLICT'; readonly accountId: string; readonly message: string }

export interface ChainState {
  /** Ids of the records that count. */
  readonly valid: ReadonlySet<string>
  readonly rejected: ReadonlyMap<string, Rejection>
  /** Current members by account id. */
  readonly members: ReadonlyMap<string, MemberState>
  /** Accounts that were members and are removed now. */
  readonly removed: ReadonlySet<string>
  readonly generations: ReadonlyMap<string, GenerationState>
  readonly currentKid: string | undefined
  /** Every wrap addressed to an account by a valid record, by kid. */
  wrapsFor(accountId: string): ReadonlyMap<string, readonly string[]>
  /** Members that lack a wrap of the current generation (an admin shares it with them). */
  readonly missingCurrent: readonly string[]
  /** The valid records no other valid record has seen: what a new record names as `prev`. */
  readonly heads: readonly string[]
  /** Keys members announced that no admin has endorsed yet. */
  readonly announcements: readonly { readonly accountId: string; readonly keys: Required<PublicKeys>; readonly recordId: string; readonly sigJkt: string; readonly encJkt: string }[]
  readonly notices: readonly ChainNotice[]
}

export interface ChainInput {
  readonly records: readonly ParsedRecord[]
  readonly workspaceId: string
  /** The genesis this device takes as the root (see keyring.ts for how it is chosen). */
  readonly rootId: string
  /** Whether a record's signature verifies with the key its header names (checked beforehand: it is async). */
  readonly signed: (record: ParsedRecord) => boolean
}

type Bits = Uint32Array
const has = (bits: Bits, i: number) => ((bits[i >>> 5]! >>> (i & 31)) & 1) === 1
const set = (bits: Bits, i: number) => {
  bits[i >>> 5]! |= 1 << (i & 31)
}

const subjectOf = (p: RecordPayload): string | undefined =>
  p.t === 'genesis' ? p.by : p.t === 'member' || p.t === 'remove' ? p.sub : undefined

const sameKeys = (a: MemberState, b: MemberState) => a.encJkt === b.encJkt && a.sigJkt === b.sigJkt

/** What a record needs its author to be: member for own keys and leaving, admin for the rest. */
const neededPower = (p: RecordPayload): number => {
  if (p.t === 'keys') return POWER.member
  if ((p.t === 'member' || p.t === 'remove') && p.sub === p.by) return POWER.member
  return POWER.admin
}

export const evaluateChain = (input: ChainInput): ChainState => {
  const rejected = new Map<string, Rejection>()
  const reject = (r: ParsedRecord, code: RejectionCode, reason: string) => void rejected.set(r.id, { code, reason })

  // Records of this workspace, once each.
  const byId = new Map<string, ParsedRecord>()
  for (const r of input.records) {
    if (byId.has(r.id) || rejected.has(r.id)) continue
    if (r.payload.ws !== input.workspaceId) reject(r, 'OTHER_WORKSPACE', `signed for workspace ${JSON.stringify(r.payload.ws)}`)
    else byId.set(r.id, r)
  }

  // A topological order (Kahn's, smallest id first among the ready): the same on every replica.
  const waiting = new Map<string, number>()
  const children = new Map<string, string[]>()
  const ready: string[] = []
  for (const r of byId.values()) {
    let unknown = false
    for (const p of r.payload.prev) {
      if (!byId.has(p)) unknown = true
      else children.set(p, [...(children.get(p) ?? []), r.id])
    }
    if (unknown) reject(r, 'MISSING_PREV', 'it follows a record that is missing')
    waiting.set(r.id, unknown ? Infinity : r.payload.prev.length)
    if (!unknown && r.payload.prev.length === 0) ready.push(r.id)
  }
  const order: ParsedRecord[] = []
  ready.sort()
  while (ready.length) {
    const id = ready.shift()!
    order.push(byId.get(id)!)
    for (const c of children.get(id) ?? []) {
      const left = waiting.get(c)! - 1
      waiting.set(c, left)
      if (left === 0) {
        let at = ready.findIndex((x) => x > c)
        if (at < 0) at = ready.length
        ready.splice(at, 0, c)
      }
    }
  }
  const ordered = new Set(order)
  for (const r of byId.values()) if (!rejected.has(r.id) && !ordered.has(r)) reject(r, 'MISSING_PREV', 'it follows a record that is missing')

  const n = order.length
  const index = new Map(order.map((r, i) => [r.id, i]))
  const words = (n + 31) >>> 5
  const anc: Bits[] = order.map(() => new Uint32Array(words))
  order.forEach((r, i) => {
    for (const p of r.payload.prev) {
      const j = index.get(p)!
      set(anc[i]!, j)
      for (let w = 0; w < words; w++) anc[i]![w]! |= anc[j]![w]!
    }
  })
  const concurrent = (i: number, j: number) => i !== j && !has(anc[i]!, j) && !has(anc[j]!, i)

  const root = index.get(input.rootId)
  const inChain = new Uint8Array(n)
  order.forEach((r, i) => {
    if (i === root) inChain[i] = 1
    else if (r.payload.t === 'genesis') reject(r, 'OTHER_GENESIS', 'this workspace already has its genesis record')
    else if (root === undefined || !has(anc[i]!, root)) reject(r, 'NOT_IN_CHAIN', "it does not follow this workspace's genesis record")
    else inChain[i] = 1
  })

  // Membership records by the account they are about, in order.
  const about = new Map<string, number[]>()
  order.forEach((r, i) => {
    const sub = subjectOf(r.payload)
    if (sub !== undefined && inChain[i]) about.set(sub, [...(about.get(sub) ?? []), i])
  })

  type Account = { member: MemberState } | { removed: true }
  /** The state of one account as the valid records within `view` make it. */
  const accountIn = (ops: readonly number[], valid: Uint8Array, view: Bits | undefined, notices?: ChainNotice[]): Account | undefined => {
    const seen = ops.filter((j) => valid[j] && (!view || has(view, j)))
    const latest = seen.filter((j) => !seen.some((k) => k !== j && has(anc[k]!, j)))
    if (latest.length === 0) return undefined
    const p = (j: number) => order[j]!.payload
    const adds = latest.filter((j) => p(j).t !== 'remove')
    const subject = subjectOf(p(latest[0]!))!
    if (adds.length < latest.length) {
      if (adds.length && notices)
        notices.push({
          code: 'ADD_REMOVE_CONFLICT',
          accountId: subject,
          message: `${subject} was removed while another admin added or changed them: they stay removed until an admin adds them again`,
        })
      return { removed: true }
    }
    const states = adds.map((j) => {
      const r = order[j]!
      const q = r.payload as Extract<RecordPayload, { t: 'genesis' | 'member' }>
      const role: KeyringRole = q.t === 'genesis' ? 'owner' : q.role
      return { j, state: { accountId: subject, name: q.name, role, keys: q.keys, encJkt: r.keyJkts!.enc, sigJkt: r.keyJkts!.sig } }
    })
    // Concurrent changes: the lowest role; keys and name of the latest (by time, then id), and a notice.
    states.sort((a, b) => p(b.j).at - p(a.j).at || (order[a.j]!.id < order[b.j]!.id ? 1 : -1))
    const first = states[0]!.state
    let role = first.role
    for (const s of states) if (POWER[s.state.role] < POWER[role]) role = s.state.role
    if (notices && states.some((s) => !sameKeys(s.state, first)))
      notices.push({ code: 'KEYS_CONFLICT', accountId: subject, message: `two admins gave ${subject} different keys at once: the later one counts; check it with them` })
    if (notices && role !== first.role)
      notices.push({ code: 'ROLE_CONFLICT', accountId: subject, message: `${subject} was given different roles at once: the lower one, ${role}, counts` })
    return { member: role === first.role ? first : { ...first, role } }
  }
  const memberIn = (accountId: string, valid: Uint8Array, view: Bits | undefined): MemberState | undefined => {
    const a = accountIn(about.get(accountId) ?? [], valid, view)
    return a && 'member' in a ? a.member : undefined
  }

  /** Why record i does not count given the valid records, or undefined if it counts. */
  const judge = (i: number, valid: Uint8Array, kids: Set<string>): Rejection | undefined => {
    const r = order[i]!
    const p = r.payload
    const view = anc[i]!
    const author = memberIn(p.by, valid, view)
    if (!author) return { code: 'UNAUTHORIZED', reason: `${p.by} was not a member when this was signed` }
    if (p.t === 'keys') {
      if (r.jkt !== r.keyJkts?.sig || !input.signed(r)) return { code: 'BAD_SIGNATURE', reason: 'not signed with the key it announces' }
      return undefined
    }
    if (author.sigJkt === undefined || author.sigJkt !== r.jkt || !input.signed(r))
      return { code: 'BAD_SIGNATURE', reason: `not signed with ${p.by}'s signing key` }
    const power = POWER[author.role]
    const deny = (why: string): Rejection => ({ code: 'UNAUTHORIZED', reason: why })
    switch (p.t) {
      case 'genesis':
        return { code: 'OTHER_GENESIS', reason: 'a second genesis record' }
      case 'member': {
        if (p.sub === p.by) {
          if (POWER[p.role] > power) return deny('a member cannot raise their own role')
          return undefined
        }
        if (power < POWER.admin) return deny(`${p.by} is not an admin`)
        if (p.role === 'owner' || POWER[p.role] > power) return deny(`${p.by} cannot grant the ${p.role} role`)
        const target = memberIn(p.sub, valid, view)
        if (target && POWER[target.role] >= power) return deny(`${p.by} cannot change ${p.sub}, whose role is not below theirs`)
        return undefined
      }
      case 'remove': {
        const target = memberIn(p.sub, valid, view)
        if (!target) return deny(`${p.sub} was not a member`)
        if (p.sub === p.by) return author.role === 'owner' ? deny('the owner cannot leave') : undefined
        if (power < POWER.admin) return deny(`${p.by} is not an admin`)
        if (POWER[target.role] >= power) return deny(`${p.by} cannot remove ${p.sub}, whose role is not below theirs`)
        return undefined
      }
      case 'generation':
        if (power < POWER.admin) return deny(`${p.by} is not an admin: only admins start key generations`)
        if (kids.has(p.kid)) return { code: 'DUPLICATE_KID', reason: `generation ${p.kid} exists already` }
        return undefined
      case 'share':
        if (power < POWER.admin) return deny(`${p.by} is not an admin`)
        if (!memberIn(p.sub, valid, view)) return deny(`${p.sub} was not a member`)
        return undefined
    }
  }

  // Judge every record by its causal past; then drop the records of authors removed concurrently, and judge
  // again (what they did no longer counts), until nothing changes. Exclusions only grow, so this ends.
  const excluded = new Set<number>()
  let valid = new Uint8Array(n)
  const reasons = new Map<number, Rejection>()
  for (let round = 0; round <= n; round++) {
    valid = new Uint8Array(n)
    reasons.clear()
    const kids = new Set<string>()
    for (let i = 0; i < n; i++) {
      if (!inChain[i]) continue
      if (i === root) {
        const g = order[i]!
        if (g.jkt === g.keyJkts?.sig && input.signed(g)) valid[i] = 1
        else reasons.set(i, { code: 'BAD_SIGNATURE', reason: 'the genesis record is not signed with its own key' })
        continue
      }
      if (excluded.has(i)) {
        reasons.set(i, { code: 'REVOKED', reason: `${order[i]!.payload.by} was removed or demoted by a record this one had not seen` })
        continue
      }
      const why = judge(i, valid, kids)
      if (why) reasons.set(i, why)
      else {
        valid[i] = 1
        const p = order[i]!.payload
        if (p.t === 'generation') kids.add(p.kid)
      }
    }
    let grew = false
    for (let i = 0; i < n; i++) {
      if (!valid[i] || i === root) continue
      const p = order[i]!.payload
      const need = neededPower(p)
      const lowered = (about.get(p.by) ?? []).some((j) => {
        if (!valid[j] || !concurrent(i, j)) return false
        const q = order[j]!.payload
        return q.t === 'remove' || (q.t === 'member' && POWER[q.role] < need)
      })
      if (lowered && !excluded.has(i)) {
        excluded.add(i)
        grew = true
      }
    }
    if (!grew) break
  }
  for (const [i, why] of reasons) if (!rejected.has(order[i]!.id)) rejected.set(order[i]!.id, why)

  // The state now.
  const notices: ChainNotice[] = []
  const members = new Map<string, MemberState>()
  const removed = new Set<string>()
  for (const [accountId, ops] of [...about].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const a = accountIn(ops, valid, undefined, notices)
    if (!a) continue
    if ('member' in a) members.set(accountId, a.member)
    else removed.add(accountId)
  }

  // Generations, and every delivery of one (its own wraps, and shares of it to later members).
  const generations = new Map<string, GenerationState>()
  const genIndex = new Map<string, number>()
  const deliveries = new Map<string, { x: string; at: number }[]>()
  const deliver = (kid: string, x: string, at: number) => deliveries.set(kid, [...(deliveries.get(kid) ?? []), { x, at }])
  for (let i = 0; i < n; i++) {
    const p = order[i]!.payload
    if (!valid[i]) continue
    if (p.t === 'generation') {
      genIndex.set(p.kid, i)
      for (const x of Object.keys(p.wraps)) deliver(p.kid, x, i)
    } else if (p.t === 'share')
      for (const kid of Object.keys(p.wraps)) {
        const g = genIndex.get(kid)
        if (g !== undefined && has(anc[i]!, g)) deliver(kid, p.sub, i)
      }
  }
  // A generation is stale when one of its holders should not hold it any more: a non-member when it was
  // wrapped for them, removed by a removal the wrap had not seen, or holding it under a key since replaced.
  for (const [kid, i] of genIndex) {
    const p = order[i]!.payload as Extract<RecordPayload, { t: 'generation' }>
    let stale: string | undefined
    for (const { x, at } of deliveries.get(kid) ?? []) {
      const then = memberIn(x, valid, anc[at]!)
      if (!then) stale = `wrapped for ${x}, who was not a member`
      else if ((about.get(x) ?? []).some((j) => valid[j] && order[j]!.payload.t === 'remove' && !has(anc[at]!, j)))
        stale = `held by ${x}, who was removed`
      else {
        const now = members.get(x)
        if (now && now.encJkt !== then.encJkt) stale = `held by ${x} under a key they have replaced`
      }
      if (stale) break
    }
    const recipients = Object.keys(p.wraps).sort()
    generations.set(kid, { kid, recordId: order[i]!.id, by: p.by, at: p.at, recipients, ...(stale ? { stale } : {}) })
  }
  const usable = [...generations.values()].filter((g) => !g.stale)
  const newest = usable.filter((g) => !usable.some((h) => h !== g && has(anc[genIndex.get(h.kid)!]!, genIndex.get(g.kid)!)))
  newest.sort((a, b) => b.at - a.at || (a.recordId < b.recordId ? 1 : -1))
  const currentKid = newest[0]?.kid

  // Wraps by recipient: a generation's own, and shares of generations the sharer had seen.
  const wraps = new Map<string, Map<string, string[]>>()
  const addWrap = (accountId: string, kid: string, jwe: string) => {
    const m = wraps.get(accountId) ?? new Map<string, string[]>()
    wraps.set(accountId, m)
    m.set(kid, [...(m.get(kid) ?? []), jwe])
  }
  for (let i = 0; i < n; i++) {
    if (!valid[i]) continue
    const p = order[i]!.payload
    if (p.t === 'generation') for (const [x, jwe] of Object.entries(p.wraps)) addWrap(x, p.kid, jwe)
    if (p.t === 'share')
      for (const [kid, jwe] of Object.entries(p.wraps)) {
        const g = genIndex.get(kid)
        if (g !== undefined && has(anc[i]!, g)) addWrap(p.sub, kid, jwe)
      }
  }
  const missingCurrent = currentKid === undefined ? [] : [...members.keys()].filter((x) => !wraps.get(x)?.has(currentKid))

  const heads: string[] = []
  for (let i = 0; i < n; i++) {
    if (!valid[i]) continue
    let seen = false
    for (let k = 0; k < n && !seen; k++) if (valid[k] && has(anc[k]!, i)) seen = true
    if (!seen) heads.push(order[i]!.id)
  }

  const announced = new Map<string, ChainState['announcements'][number] & { at: number }>()
  for (let i = 0; i < n; i++) {
    const r = order[i]!
    const p = r.payload
    if (!valid[i] || p.t !== 'keys') continue
    const m = members.get(p.by)
    if (!m || (m.encJkt === r.keyJkts!.enc && m.sigJkt === r.keyJkts!.sig)) continue
    const prior = announced.get(p.by)
    if (!prior || p.at > prior.at)
      announced.set(p.by, { accountId: p.by, keys: p.keys, recordId: r.id, sigJkt: r.keyJkts!.sig!, encJkt: r.keyJkts!.enc, at: p.at })
  }

  const validIds = new Set<string>()
  for (let i = 0; i < n; i++) if (valid[i]) validIds.add(order[i]!.id)
  return {
    valid: validIds,
    rejected,
    members,
    removed,
    generations,
    currentKid,
    wrapsFor: (accountId) => wraps.get(accountId) ?? new Map(),
    missingCurrent,
    heads: heads.sort(),
    announcements: [...announced.values()].map(({ at: _at, ...a }) => a),
    notices,
  }
}
