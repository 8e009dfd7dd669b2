/**
 * The category of the instance streams by default: each instance is the stream `sagaflow_instance-<instanceId>`.
 *
 * EventStoreDB's system projections (`$by_category`, `$category-…` streams) take a stream's category to be
 * the part before its FIRST `-`. The category therefore contains no `-` (hence the underscore), while the
 * instance id after the separator may contain any number of them: `sagaflow_instance-order-2024-17` is in
 * the category `sagaflow_instance`, instance `order-2024-17`.
 */
export const defaultCategory = 'sagaflow_instance';

/** @throws TypeError unless `category` can head instance stream names: non-empty, no `-`, no leading `$`. */
export function checkCategory(category: string): void {
  if (!/^[A-Za-z0-9_.]+$/.test(category)) {
    throw new TypeError(`Stream category "${category}" must be non-empty letters, digits, "_" or "." (no "-": EventStoreDB splits the category at the first "-")`);
  }
}

/** What the stream names of instances start with: the category and its separator. */
export const streamPrefixOf = (category: string): string => `${category}-`;

/** The stream of an instance. */
export const streamNameOf = (category: string, instanceId: string): string => `${streamPrefixOf(category)}${instanceId}`;

/** The instance a stream belongs to, or undefined if it is not an instance stream of `category`. */
export function instanceIdOf(category: string, streamName: string): string | undefined {
  const prefix = streamPrefixOf(category);
  return streamName.startsWith(prefix) ? streamName.slice(prefix.length) : undefined;
}
