/**
 * A Map of at most `capacity` entries that drops the least recently used one: a `get` that finds
 * an entry moves it to the end (Map keeps insertion order, so the first key is the oldest).
 * A capacity of 0 keeps nothing.
 */
export class LruMap<K, V> {
  readonly #map = new Map<K, V>();

  constructor(readonly capacity: number) {}

  get(key: K): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }

  /** The entry without making it recent. */
  peek(key: K): V | undefined {
    return this.#map.get(key);
  }

  set(key: K, value: V): void {
    if (this.capacity <= 0) return;
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.capacity) this.#map.delete(this.#map.keys().next().value!);
  }

  get size(): number {
    return this.#map.size;
  }
}
