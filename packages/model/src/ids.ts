/** Random ids, never derived from names (two people creating "Login" must not collide). */
export const newId = (): string => globalThis.crypto.randomUUID()
