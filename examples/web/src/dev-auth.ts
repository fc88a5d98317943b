/**
 * Dev sign-in: tokens from the relay's `POST /dev/token` (only with `--dev-auth`), and what this browser keeps
 * per account to ask for the next one: the person's name, the device name, the session id, and workspaces
 * joined besides the personal one. A real host would get tokens from its own sign-in instead; everything
 * else in the app stays the same.
 *
 * Once this device holds the account's keys, every token request carries the account's public signing key:
 * the relay binds the first key it is given to the account and endorses that one in each token (`cnf.jkt`),
 * which the keyring checks against the key this device holds (TOKEN_KEY_MISMATCH when they differ).
 */
import { type GetToken, type Role, SyncClientError } from '@apisync/client'
import type { AccountKeys } from '@apisync/crypto'

type JWK = AccountKeys['publicJwk']

export interface Profile {
  readonly accountId: string
  /** The dev account name (the relay maps it to a stable account id). */
  readonly name: string
  readonly device: string
  /** The session: one signed-in app on this device. A new one after a remote sign-out. */
  readonly sid: string
  readonly personalWorkspace: string
  /** Workspaces joined besides the personal one, with the role asked for. */
  readonly joined: Readonly<Record<string, Role>>
  /** The workspace shown last. */
  readonly lastWorkspace: string | null
}

interface DevTokenResponse {
  readonly token: string
  readonly sub: string
  readonly sid: string
  readonly personalWorkspace: string
}

const PREFIX = 'apisync-web:profile:'

export const profiles = {
  get(accountId: string): Profile | null {
    const raw = localStorage.getItem(PREFIX + accountId)
    return raw ? (JSON.parse(raw) as Profile) : null
  },
  put(profile: Profile): void {
    localStorage.setItem(PREFIX + profile.accountId, JSON.stringify(profile))
  },
  update(accountId: string, patch: Partial<Omit<Profile, 'accountId'>>): Profile {
    const current = profiles.get(accountId)
    if (!current) throw new Error(`no profile for ${accountId}`)
    const next = { ...current, ...patch }
    profiles.put(next)
    return next
  },
  remove(accountId: string): void {
    localStorage.removeItem(PREFIX + accountId)
  },
}

export class DevAuth {
  /** The last token issued per account, for the app's own HTTP calls (key backup), and the key it was asked with. */
  private readonly latest = new Map<string, { readonly token: string; readonly key: string | undefined }>()

  constructor(
    private readonly relayUrl: string,
    /** The public signing key of the account's keys on this device, once it has them. */
    private readonly signingKey: (accountId: string) => JWK | undefined = () => undefined,
  ) {}

  /** Signs a person in on this device: a new session; returns the token for SyncClient.signIn. */
  async signIn(name: string, device: string): Promise<{ token: string; profile: Profile }> {
    const res = await this.request({ name, device })
    const previous = profiles.get(res.sub)
    const profile: Profile = {
      accountId: res.sub,
      name,
      device,
      sid: res.sid,
      personalWorkspace: res.personalWorkspace,
      joined: previous?.joined ?? {},
      lastWorkspace: previous?.lastWorkspace ?? null,
    }
    profiles.put(profile)
    // The grants of joined workspaces ride on the next token: ask for one with them straight away.
    return { token: Object.keys(profile.joined).length ? await this.tokenFor(profile) : res.token, profile }
  }

  /** A fresh token for an account signed in on this device (same session, current grants). */
  async tokenFor(profile: Profile): Promise<string> {
    const key = this.signingKey(profile.accountId)
    const res = await this.request({ name: profile.name, device: profile.device, sid: profile.sid, workspaces: profile.joined, ...(key ? { key } : {}) })
    return res.token
  }

  /**
   * A token asked for with the signing key this device now holds (the relay binds it, or endorses the account's
   * bound key instead), for the keyring's `cnf` check; undefined offline or without keys.
   */
  async endorsementToken(accountId: string): Promise<string | undefined> {
    const known = this.knownEndorsementToken(accountId)
    if (known || !this.signingKey(accountId)) return known
    const profile = profiles.get(accountId)
    return profile ? this.tokenFor(profile).catch(() => undefined) : undefined
  }

  /** The latest token, if it was asked for with the signing key this device holds now (no request). */
  knownEndorsementToken(accountId: string): string | undefined {
    const key = this.signingKey(accountId)
    const latest = this.latest.get(accountId)
    return key && latest && latest.key === JSON.stringify(key) ? latest.token : undefined
  }

  /** The client's token source. */
  readonly getToken: GetToken = async ({ accountId }) => {
    if (accountId === null) throw new SyncClientError('INVALID_TOKEN', 'sign in with a name first')
    const profile = profiles.get(accountId)
    if (!profile) throw new SyncClientError('INVALID_TOKEN', 'this device has no sign-in for the account: sign in again')
    return this.tokenFor(profile)
  }

  /** The account's latest token (fetching one if none was issued in this page yet). */
  async token(accountId: string): Promise<string> {
    return this.latest.get(accountId)?.token ?? (await this.getToken({ accountId }))
  }

  private async request(body: { readonly name: string; readonly key?: JWK; readonly [more: string]: unknown }): Promise<DevTokenResponse> {
    const res = await fetch(`${this.relayUrl}/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    if (!res.ok) {
      const text = await res.text().catch(() => '')
      throw new Error(res.status === 404 ? 'this relay has no dev sign-in (start it with --dev-auth)' : `sign-in failed: ${res.status} ${text}`)
    }
    const data = (await res.json()) as DevTokenResponse
    this.latest.set(data.sub, { token: data.token, key: body.key && JSON.stringify(body.key) })
    return data
  }
}
