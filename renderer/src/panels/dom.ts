/** Tiny DOM helpers: no framework, no `innerHTML` (text from files is never parsed as HTML). */

type Props<K extends keyof HTMLElementTagNameMap> = Partial<
  Omit<HTMLElementTagNameMap[K], 'style' | 'dataset'>
> & { dataset?: Record<string, string> }

/** Creates an element with properties and children (strings become text nodes). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props<K> = {},
  children: readonly (Node | string)[] = [],
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag)
  const { dataset, ...rest } = props
  Object.assign(e, rest)
  if (dataset) for (const [k, v] of Object.entries(dataset)) e.dataset[k] = v
  e.append(...children)
  return e
}

/** Replaces the children of `parent`. */
export function setChildren(parent: Element, children: readonly (Node | string)[]): void {
  parent.replaceChildren(...children)
}

/** File sizes for people. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`
  return `${(n / 1024 ** 3).toFixed(2)} GiB`
}
