/**
 * Partitions of the saga space. Every instance id maps to one of P partitions of its namespace;
 * each partition is decided for by one engine at a time. Engines, workers and clients compute the
 * same partition for the same id, so it is defined here byte for byte: FNV-1a (32-bit) of the id's
 * UTF-8 bytes, modulo P.
 */

/** Partitions of a namespace unless it was created with another number. */
export const defaultPartitions = 32;

/** The most partitions a namespace may have (each costs two durable consumers on the NATS server). */
export const maxPartitions = 256;

const fnvOffset = 0x811c9dc5;
const fnvPrime = 0x01000193;

const mix = (hash: number, byte: number): number => Math.imul(hash ^ byte, fnvPrime);

/** FNV-1a, 32-bit, of a string's UTF-8 bytes, encoded on the way (a lone surrogate counts as U+FFFD, as TextEncoder has it). */
function fnv1a(text: string): number {
  let hash = fnvOffset;
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code < 0x80) {
      hash = mix(hash, code);
      continue;
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      const low = text.charCodeAt(i + 1);
      if (code <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        i++;
      } else {
        code = 0xfffd;
      }
    }
    if (code < 0x800) {
      hash = mix(mix(hash, 0xc0 | (code >> 6)), 0x80 | (code & 0x3f));
    } else if (code < 0x10000) {
      hash = mix(mix(mix(hash, 0xe0 | (code >> 12)), 0x80 | ((code >> 6) & 0x3f)), 0x80 | (code & 0x3f));
    } else {
      hash = mix(mix(mix(mix(hash, 0xf0 | (code >> 18)), 0x80 | ((code >> 12) & 0x3f)), 0x80 | ((code >> 6) & 0x3f)), 0x80 | (code & 0x3f));
    }
  }
  return hash >>> 0;
}

/**
 * Checks a partition count: a whole number from 1 to {@link maxPartitions}.
 * @throws RangeError naming the value otherwise.
 */
export function checkPartitions(partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > maxPartitions) {
    throw new RangeError(`Invalid partition count ${String(partitions)}: use a whole number from 1 to ${maxPartitions}`);
  }
  return partitions;
}

/** The partition (0 to `partitions` − 1) an instance id belongs to. */
export function partitionOf(instanceId: string, partitions: number): number {
  return fnv1a(instanceId) % partitions;
}
