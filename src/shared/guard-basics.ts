/**
 * The building blocks of the API's request guards (`requestGuards` in api.ts): exact plain
 * objects, bounded strings, optional fields. Pure, no imports.
 */

/** Longest string any request field may hold (refs, names, keys). */
export const MAX_STRING = 4096

/** A plain object's own properties, as a guard reads them. */
export type Obj = Readonly<Record<string, unknown>>

/** A plain object: not null, not an array or typed array, prototype Object or null. */
export function isPlain(x: unknown): x is Obj {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false
  const proto: unknown = Object.getPrototypeOf(x)
  return proto === Object.prototype || proto === null
}

/** Own keys are exactly `required` plus any of `optional`. */
export function hasKeys(
  o: Obj,
  required: readonly string[],
  optional: readonly string[] = [],
): boolean {
  if (Object.getOwnPropertySymbols(o).length > 0) return false
  const known = (k: string): boolean => required.includes(k) || optional.includes(k)
  return required.every((k) => Object.hasOwn(o, k)) && Object.keys(o).every(known)
}

/** A string of at most `max` characters without NUL. */
export function isText(x: unknown, max = MAX_STRING): x is string {
  return typeof x === 'string' && x.length <= max && !x.includes('\0')
}

/** An optional field: absent (or undefined) or passing `check`. */
export function opt(x: unknown, check: (v: unknown) => boolean): boolean {
  return x === undefined || check(x)
}
