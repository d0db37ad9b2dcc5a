/** The service's one id minter: every volume, job, label map and session id comes from here. */
import { randomBytes } from 'node:crypto'

/** A fresh id: `prefix_` + 16 random hex digits (`ses`: 32, a session key is a claim). */
export function newId<T extends string>(prefix: 'vol' | 'job' | 'lbl' | 'ses'): T {
  return `${prefix}_${randomBytes(prefix === 'ses' ? 16 : 8).toString('hex')}` as T
}
