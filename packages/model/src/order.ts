/** Sibling order: fractional keys (the fractional-indexing package); ties between equal keys break by id. */
import { generateKeyBetween } from 'fractional-indexing'

export const orderBetween = (before: string | null, after: string | null): string => {
  // Keys from another replica may be malformed or out of order: fall back to appending rather than throwing.
  try {
    return generateKeyBetween(before, after)
  } catch {
    try {
      return generateKeyBetween(before, null)
    } catch {
      return generateKeyBetween(null, null)
    }
  }
}
