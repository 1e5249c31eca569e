/**
 * Node 20 lacks the ES2025 iterator helpers, and jax-js's einsum parser calls `matchAll(...).map(...)`.
 * Installs minimal `map`/`filter` on %IteratorPrototype% when they are missing (a no-op on Node ≥ 22).
 */
type AnyIterator = Iterator<unknown> & { [Symbol.iterator](): AnyIterator };

export function installIteratorHelpers(): void {
  const proto: object = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
  const install = (name: string, value: (this: AnyIterator, fn: (v: unknown, i: number) => unknown) => unknown) => {
    if (typeof Reflect.get(proto, name) === 'function') return;
    Object.defineProperty(proto, name, { configurable: true, writable: true, value });
  };
  install('map', function* map(fn) {
    let i = 0;
    for (const v of { [Symbol.iterator]: () => this }) yield fn(v, i++);
  });
  install('filter', function* filter(fn) {
    let i = 0;
    for (const v of { [Symbol.iterator]: () => this }) if (fn(v, i++)) yield v;
  });
}
