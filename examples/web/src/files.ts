/** Files in and out of the browser: a file picker and downloads. */

export const downloadText = (name: string, text: string, type = 'application/json'): void =>
  download(name, new Blob([text], { type }))

export const downloadBytes = (name: string, bytes: Uint8Array): void =>
  download(name, new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }))

const download = (name: string, blob: Blob): void => {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

/** Opens the browser's file picker; resolves with the chosen files (none if cancelled). */
export const pickFiles = (accept = '.json,application/json', multiple = true): Promise<File[]> =>
  new Promise((resolve) => {
    const input = document.createElement('input')
    input.type = 'file'
    input.accept = accept
    input.multiple = multiple
    input.style.display = 'none'
    input.setAttribute('data-testid', 'file-picker')
    input.addEventListener('change', () => {
      resolve([...(input.files ?? [])])
      input.remove()
    })
    input.addEventListener('cancel', () => {
      resolve([])
      input.remove()
    })
    document.body.appendChild(input)
    input.click()
  })

/** A file name from a display name. */
export const fileName = (name: string, suffix: string): string => `${name.replace(/[^\w .-]+/g, '_').trim() || 'untitled'}${suffix}`
