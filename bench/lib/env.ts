/**
 * Benchmark sizes from the environment: `BENCH_<NAME>` overrides one size, and `BENCH_SCALE`
 * multiplies every default (e.g. BENCH_SCALE=0.1 for a quick smoke run).
 */

const scale = (): number => {
  const s = Number(process.env.BENCH_SCALE ?? '1')
  return Number.isFinite(s) && s > 0 ? s : 1
}

export const envInt = (name: string, fallback: number, { scaled = true } = {}): number => {
  const raw = process.env[`BENCH_${name}`]
  if (raw !== undefined && raw !== '') {
    const n = Number(raw)
    if (!Number.isFinite(n) || n < 0) throw new Error(`BENCH_${name} must be a non-negative number, got ${raw}`)
    return Math.round(n)
  }
  return Math.max(1, Math.round(scaled ? fallback * scale() : fallback))
}

export const envList = (name: string): string[] | undefined => {
  const raw = process.env[`BENCH_${name}`]
  return raw ? raw.split(',').map((s) => s.trim()).filter(Boolean) : undefined
}
