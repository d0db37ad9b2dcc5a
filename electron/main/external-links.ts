/**
 * The one way a link leaves the app (security checklist E7): `shell.openExternal` only for
 * `https:` URLs on an allow-list of hosts (project and licence pages), never for text derived from
 * a file (DICOM tags, file names) and never for `file:`, `javascript:`, `smb:` or any other scheme.
 */

/** Hosts a Help menu or an About link may open in the default browser. */
export const EXTERNAL_HOSTS: readonly string[] = Object.freeze([
  'github.com',
  'onnxruntime.ai',
  'www.electronjs.org',
  'opensource.org',
  'www.apache.org',
])

/**
 * True when `url` may be handed to `shell.openExternal`: it parses, is `https:`, has no user
 * name or password, its host is on {@link EXTERNAL_HOSTS} exactly (no suffix matching) and it
 * uses the default port.
 */
export function isAllowedExternal(url: unknown): url is string {
  if (typeof url !== 'string' || url.length > 2048) return false
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return false
  }
  return (
    u.protocol === 'https:' &&
    u.username === '' &&
    u.password === '' &&
    u.port === '' &&
    EXTERNAL_HOSTS.includes(u.hostname)
  )
}

/**
 * Opens `url` with `open` (Electron's `shell.openExternal`) when {@link isAllowedExternal}
 * passes; resolves whether it was opened.
 */
export async function openExternalSafely(
  url: unknown,
  open: (url: string) => Promise<void>,
): Promise<boolean> {
  if (!isAllowedExternal(url)) return false
  await open(url)
  return true
}
