/**
 * Growing multipart part sizes, shared by the panel (which signs part URLs) and the daemon (which
 * cuts the archive): part n of an upload that starts at `base` bytes is
 * `min(5 GiB, base × 2^floor((n − 1) / PART_GROWTH_EVERY))`. Small archives keep small parts; a
 * huge one gets larger parts as it goes, so it never needs more than S3's 10,000 parts and reaches
 * S3's 5 TiB object limit from any base of at least 5 MiB (S3's minimum part): with base 5 MiB the
 * first 10,000 parts hold ~9.3 TiB. The presigned URLs sign no length, so parts may differ in size.
 */
export const S3_MAX_PARTS = 10_000;
export const S3_MIN_PART_SIZE = 5 * 1024 * 1024;
export const S3_MAX_PART_SIZE = 5 * 1024 * 1024 * 1024;
export const S3_MAX_OBJECT_SIZE = 5 * 1024 * 1024 * 1024 * 1024;
/** Parts per doubling step. With 1,000 a 5 MiB base would top out just short of 5 TiB (~4.995 TiB). */
export const PART_GROWTH_EVERY = 900;

/** Size of part `n` (1-based). */
export function grownPartSize(base: number, n: number): number {
  const step = Math.floor((n - 1) / PART_GROWTH_EVERY);
  return Math.min(S3_MAX_PART_SIZE, base * 2 ** step);
}

/** Bytes the first `count` parts hold. */
export function bytesInParts(base: number, count: number): number {
  let total = 0;
  for (let first = 1; first <= count; first += PART_GROWTH_EVERY) {
    total += grownPartSize(base, first) * Math.min(PART_GROWTH_EVERY, count - first + 1);
  }
  return total;
}

/** Parts needed for `size` bytes (at least one). */
export function partsForSize(base: number, size: number): number {
  let parts = 0;
  let left = size;
  for (let first = 1; ; first += PART_GROWTH_EVERY) {
    const each = grownPartSize(base, first);
    const needed = Math.ceil(left / each);
    if (needed <= PART_GROWTH_EVERY) return Math.max(1, parts + needed);
    parts += PART_GROWTH_EVERY;
    left -= each * PART_GROWTH_EVERY;
  }
}

/**
 * A fixed part size for an uploader that cuts equal parts and says the final size up front
 * (Wings): the configured one, raised just enough that `size` fits in 10,000 parts.
 */
export function fixedPartSizeFor(base: number, size: number): number {
  return Math.max(base, Math.ceil(size / S3_MAX_PARTS));
}
