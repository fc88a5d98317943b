/** Doc names: `{workspaceId}/manifest`, `/collection/{id}`, `/environment/{id}`, `/globals`, `/runs/{collectionId}`. */
import { ModelError } from './errors.js'

export type DocAddress =
  | { readonly workspaceId: string; readonly kind: 'manifest' | 'globals' }
  | { readonly workspaceId: string; readonly kind: 'collection' | 'environment' | 'runs'; readonly id: string }

const SAFE = /^[A-Za-z0-9_-]{1,128}$/

export const docName = (address: DocAddress): string => {
  if (!SAFE.test(address.workspaceId)) throw new ModelError('INVALID_VALUE', 'workspace ids are 1-128 of [A-Za-z0-9_-]')
  if (address.kind === 'manifest' || address.kind === 'globals') return `${address.workspaceId}/${address.kind}`
  if (!('id' in address) || !SAFE.test(address.id)) throw new ModelError('INVALID_VALUE', 'doc ids are 1-128 of [A-Za-z0-9_-]')
  return `${address.workspaceId}/${address.kind}/${(address as { id: string }).id}`
}

export const parseDocName = (name: string): DocAddress | undefined => {
  const parts = name.split('/')
  const [workspaceId, kind, id] = parts
  if (!workspaceId || !SAFE.test(workspaceId)) return undefined
  if ((kind === 'manifest' || kind === 'globals') && parts.length === 2) return { workspaceId, kind }
  if ((kind === 'collection' || kind === 'environment' || kind === 'runs') && parts.length === 3 && id && SAFE.test(id))
    return { workspaceId, kind, id }
  return undefined
}
