/** The app's version from package.json (`hello` reports it); `0.0.0` when it cannot be read. */
import { readFile } from 'node:fs/promises'

export async function readAppVersion(): Promise<string> {
  try {
    const text = await readFile(new URL('../../package.json', import.meta.url), 'utf8')
    return (JSON.parse(text) as { version: string }).version
  } catch {
    return '0.0.0'
  }
}
