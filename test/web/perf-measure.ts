/**
 * Measures the demo with a big collection in a signed-in Chromium device (used by test/web/perf.test.ts and
 * bench/client.ts). Every figure is taken in the page with performance.now() and the app's own
 * 'apisync:render' measures (examples/web/src/main.ts): "work" is the input handling plus the render it
 * causes; "to the next frame" adds the wait for the frame in which that render ran.
 */
import type { Device } from './helpers.js'
import { itemMenu, treeItem } from './helpers.js'

export interface Summary {
  readonly p50: number
  readonly p95: number
  readonly max: number
}

export interface PerfFigures {
  readonly keystroke: Summary
  readonly keystrokeFrame: Summary
  readonly expand: Summary
  readonly open: Summary
  readonly coldStart: number
  readonly rows: number
  readonly rowsBuilt: number
}

const summary = (xs: number[]): Summary => {
  const s = [...xs].sort((a, b) => a - b)
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0
  return { p50: at(0.5), p95: at(0.95), max: s[s.length - 1] ?? 0 }
}

export async function measureBigCollection(d: Device, file: string, name = 'Booking Management API v2026.04'): Promise<PerfFigures> {
  const page = d.page
  // Run from tsx (the bench), the functions below carry esbuild's __name helper: give the page one.
  await page.evaluate('globalThis.__name = globalThis.__name || ((f) => f)')
  const chooser = page.waitForEvent('filechooser')
  await page.getByTestId('import').click()
  await (await chooser).setFiles(file)
  await treeItem(page, name).waitFor({ timeout: 120_000 })
  await d.inState('in-sync', 120_000)
  await itemMenu(page, name, 'Expand all folders')
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=tree]')?.getAttribute('data-rows')) > 1000)
  const rows = Number(await page.getByTestId('tree').getAttribute('data-rows'))
  await page.locator('[data-testid=tree-item][data-kind=request]').first().click()
  await page.getByTestId('request-editor').waitFor()
  const rowsBuilt = await page.locator('[data-testid=tree] [data-testid=tree-item]').count()

  const keys = await page.evaluate(async () => {
    const frame = () => new Promise<void>((r) => requestAnimationFrame(() => r()))
    const settle = () => new Promise<void>((r) => requestAnimationFrame(() => setTimeout(r, 0)))
    const renderTime = () => performance.getEntriesByName('apisync:render').reduce((a, e) => a + e.duration, 0)
    const input = document.querySelector<HTMLInputElement>('[data-testid=url-input]')!
    input.focus()
    const work: number[] = []
    const wall: number[] = []
    for (let i = 0; i < 40; i++) {
      await settle()
      performance.clearMeasures('apisync:render')
      const t0 = performance.now()
      input.value += String.fromCharCode(97 + (i % 26))
      input.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertText' }))
      const t1 = performance.now()
      await frame() // runs after the app's render of this frame
      wall.push(performance.now() - t0)
      work.push(t1 - t0 + renderTime())
    }
    return { work, wall }
  })

  const expand = await page.evaluate(async () => {
    const settle = () => new Promise<void>((r) => requestAnimationFrame(() => setTimeout(r, 0)))
    const frame = () => new Promise<void>((r) => requestAnimationFrame(() => r()))
    const renderTime = () => performance.getEntriesByName('apisync:render').reduce((a, e) => a + e.duration, 0)
    const out: number[] = []
    for (let i = 0; i < 20; i++) {
      const folder = document.querySelectorAll<HTMLElement>('[data-testid=tree] [data-kind=folder][aria-expanded=true]')[i % 5]!
      const id = folder.getAttribute('data-id')
      folder.querySelector<HTMLElement>('[data-testid=chevron]')!.click() // collapse
      await settle()
      performance.clearMeasures('apisync:render')
      const chevron = document.querySelector<HTMLElement>(`[data-testid=tree] [data-id="${id}"] [data-testid=chevron]`)!
      const t0 = performance.now()
      chevron.click() // expand
      const t1 = performance.now()
      await frame()
      out.push(t1 - t0 + renderTime())
    }
    return out
  })

  const open = await page.evaluate(async (collection) => {
    const settle = () => new Promise<void>((r) => requestAnimationFrame(() => setTimeout(r, 0)))
    const frame = () => new Promise<void>((r) => requestAnimationFrame(() => r()))
    const renderTime = () => performance.getEntriesByName('apisync:render').reduce((a, e) => a + e.duration, 0)
    const row = () => document.querySelector<HTMLElement>(`[data-testid=tree-item][data-kind=collection][data-name="${collection}"]`)!
    const out: number[] = []
    for (let i = 0; i < 6; i++) {
      row().querySelector<HTMLElement>('[data-testid=chevron]')!.click() // collapse (its folders stay open inside)
      document.querySelector<HTMLElement>('[data-testid=tree]')!.scrollTop = 0
      await settle()
      await settle()
      performance.clearMeasures('apisync:render')
      const t0 = performance.now()
      row().click() // open: expands, and its page shows
      const t1 = performance.now()
      await frame()
      out.push(t1 - t0 + renderTime())
    }
    return out
  }, name)

  await page.reload()
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=tree]')?.getAttribute('data-rows')) > 1000, undefined, { timeout: 60_000 })
  const coldStart = await page.evaluate(() => performance.now())

  return { keystroke: summary(keys.work), keystrokeFrame: summary(keys.wall), expand: summary(expand), open: summary(open), coldStart, rows, rowsBuilt }
}
