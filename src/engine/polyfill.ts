/**
 * Node 20 lacks the ES2025 iterator helpers, and jax-js's einsum parser calls `matchAll(...).map(...)`.
 * Installs minimal `map`/`filter` on %IteratorPrototype% when they are missing (a no-op on Node ≥ 22).
 */
type AnyIterator = Iterator<unknown> & { [Symbol.iterator](): AnyIterator };

export function installIteratorHelpers(): void {
  const proto = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as Record<string, unknown>;
  if (typeof proto.map !== 'function') {
    Object.defineProperty(proto, 'map', {
      configurable: true,
      writable: true,
      value: function* map(this: AnyIterator, fn: (v: unknown, i: number) => unknown) {
        let i = 0;
        for (const v of { [Symbol.iterator]: () => this }) yield fn(v, i++);
      },
    });
  }
  if (typeof proto.filter !== 'function') {
    Object.defineProperty(proto, 'filter', {
      configurable: true,
      writable: true,
      value: function* filter(this: AnyIterator, fn: (v: unknown, i: number) => boolean) {
        let i = 0;
        for (const v of { [Symbol.iterator]: () => this }) if (fn(v, i++)) yield v;
      },
    });
  }
}
