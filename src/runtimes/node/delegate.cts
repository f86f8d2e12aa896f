/**
 * Gives `light` (a lightweight stand-in's prototype) every member of `native` (the real class's
 * prototype) except `skip`: methods and getters that run on the real object `real(this)` returns,
 * so a stand-in never behaves differently from the real thing once it is read.
 */
export function delegateMembers<T>(light: object, native: object, skip: ReadonlySet<string>, real: (self: T) => object): void {
  for (const name of Object.getOwnPropertyNames(native)) {
    if (name === 'constructor' || skip.has(name)) continue;
    const descriptor = Object.getOwnPropertyDescriptor(native, name)!;
    if (typeof descriptor.value === 'function') {
      const method = descriptor.value as (...args: unknown[]) => unknown;
      Object.defineProperty(light, name, {
        configurable: true,
        writable: true,
        value(this: T, ...args: unknown[]) {
          return method.apply(real(this), args);
        },
      });
    } else if (descriptor.get) {
      const getter = descriptor.get;
      Object.defineProperty(light, name, {
        configurable: true,
        get(this: T) {
          return getter.call(real(this));
        },
      });
    }
  }
  Object.setPrototypeOf(light, native);
}
