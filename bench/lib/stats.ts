/** Summary statistics over samples (milliseconds, bytes, ...). */

export interface Summary {
  readonly count: number
  readonly min: number
  readonly p50: number
  readonly p99: number
  readonly max: number
  readonly mean: number
}

/** Nearest-rank percentile of an ascending-sorted sample; `p` in [0, 100]. */
export const percentile = (sorted: ArrayLike<number>, p: number): number => {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]
}

export const summarize = (values: ArrayLike<number>): Summary => {
  const sorted = Float64Array.from(values).sort()
  let sum = 0
  for (const v of sorted) sum += v
  return {
    count: sorted.length,
    min: sorted.length > 0 ? sorted[0] : Number.NaN,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length > 0 ? sorted[sorted.length - 1] : Number.NaN,
    mean: sorted.length > 0 ? sum / sorted.length : Number.NaN,
  }
}
