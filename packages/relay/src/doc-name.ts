/** Doc names: `{workspaceId}/{...}`. The workspace id (first segment) is what a token grants. */
import { ProtocolError } from './errors.js'

export const MAX_DOC_NAME_LENGTH = 512

export interface DocName {
  name: string
  workspaceId: string
}

/**
 * Validate a doc name taken from the path after `/sync/` (already percent-decoded). At least two non-empty
 * segments; no `.`/`..` segments, control characters or backslashes, so a name is also safe as a key prefix.
 */
export function parseDocName(name: string): DocName {
  if (name.length === 0 || name.length > MAX_DOC_NAME_LENGTH) throw new ProtocolError('bad doc name length')
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(name)) throw new ProtocolError('bad character in doc name')
  const segments = name.split('/')
  if (segments.length < 2) throw new ProtocolError('doc name must be {workspaceId}/...')
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..') throw new ProtocolError('bad doc name segment')
  }
  return { name, workspaceId: segments[0] }
}

/** The doc name from a request path `/sync/{docName}`; each segment is percent-decoded. */
export function docNameFromPath(pathname: string, prefix = '/sync/'): DocName {
  if (!pathname.startsWith(prefix)) throw new ProtocolError('not a sync path')
  let name: string
  try {
    name = pathname
      .slice(prefix.length)
      .split('/')
      .map((s) => decodeURIComponent(s))
      .join('/')
  } catch {
    throw new ProtocolError('bad percent-encoding in doc name')
  }
  return parseDocName(name)
}

/** A workspace id as it appears in tokens and requests: one non-empty segment. */
export function isWorkspaceId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= 200 && !/[/\\\u0000-\u001f\u007f]/.test(id) && id !== '.' && id !== '..'
}
