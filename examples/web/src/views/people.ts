/** Who did something, as a person reads it: "you", a member's name, or the start of an account id. */
import type { App } from '../app.js'

/** A person's name: "you" for this account, the name the keyring verified, the manifest's, or the id's start. */
export function personName(app: App, account: string | null | undefined): string {
  if (!account) return 'someone'
  if (account === app.account?.id) return 'you'
  const member = app.view?.ring.members.find((m) => m.accountId === account)
  if (member) return member.name
  const row = app.view?.manifest.snapshot().members.find((m) => m.accountId === account)
  return row?.name || account.slice(0, 8)
}

/** "here", "you, on Laptop", "Ann, on Phone", "Ann". */
export function authorLabel(app: App, account: string | null | undefined, device: string | null | undefined): string {
  if (account && account === app.account?.id && device && device === app.account?.deviceName) return 'you, here'
  const name = personName(app, account)
  return device ? `${name}, on ${device}` : name
}

/** The people this device can name: itself, the keyring's members, and the manifest's (for a filter). */
export function knownPeople(app: App, also: readonly (string | null)[] = []): { readonly id: string; readonly name: string }[] {
  const ids = new Set<string>()
  if (app.account) ids.add(app.account.id)
  for (const m of app.view?.ring.members ?? []) ids.add(m.accountId)
  for (const m of app.view?.manifest.snapshot().members ?? []) ids.add(m.accountId)
  for (const a of also) if (a) ids.add(a)
  return [...ids].map((id) => ({ id, name: personName(app, id) }))
}
