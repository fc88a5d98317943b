/** Random ids, never derived from names (two people creating "Login" must not collide). */
export const newId = (): string => globalThis.crypto.randomUUID()

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/**
 * Ids of list rows: 12 random base64url characters (72 bits). Rows are many (every header, param and variable)
 * and their id is stored twice per row, so they are a third the size of a UUID; they only need to be unique
 * within one list.
 */
export const newRowId = (): string => {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(12))
  let id = ''
  for (const b of bytes) id += ALPHABET[b & 63]
  return id
}
