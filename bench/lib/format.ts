/** Number formatting for benchmark tables: short, fixed units, `-` for missing values. */

const missing = (x: number | undefined): x is undefined => x === undefined || Number.isNaN(x)

export const ms = (x: number | undefined): string => {
  if (missing(x)) return '-'
  if (x >= 1000) return `${(x / 1000).toFixed(2)} s`
  if (x >= 100) return `${x.toFixed(0)} ms`
  if (x >= 10) return `${x.toFixed(1)} ms`
  return `${x.toFixed(2)} ms`
}

export const rate = (x: number | undefined, unit = '/s'): string => {
  if (missing(x)) return '-'
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M${unit}`
  if (x >= 1e4) return `${(x / 1e3).toFixed(1)} k${unit}`
  return `${x.toFixed(0)}${unit}`
}

export const bytes = (x: number | undefined): string => {
  if (missing(x)) return '-'
  const sign = x < 0 ? '-' : ''
  const a = Math.abs(x)
  if (a >= 1024 * 1024) return `${sign}${(a / 1024 / 1024).toFixed(1)} MB`
  if (a >= 1024) return `${sign}${(a / 1024).toFixed(1)} KB`
  return `${sign}${a.toFixed(0)} B`
}

export const ratio = (x: number | undefined): string => (missing(x) ? '-' : `${x.toFixed(2)}×`)
