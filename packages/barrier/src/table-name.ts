const identifier = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Default name of the barrier table. */
export const defaultBarrierTable = 'sagaflow_barrier';

/**
 * Checks a table name option, `table` or `schema.table`, each part a plain SQL identifier
 * (letters, digits, `_`, not starting with a digit, at most 63 characters), and returns it quoted.
 * @throws TypeError for anything else, so an option can never inject SQL.
 */
export function quoteTableName(name: string): string {
  const parts = typeof name === 'string' ? name.split('.') : [];
  if (parts.length < 1 || parts.length > 2 || !parts.every((part) => identifier.test(part))) {
    throw new TypeError(`Invalid barrier table name ${JSON.stringify(name)}: use "table" or "schema.table" with letters, digits and "_"`);
  }
  return parts.map((part) => `"${part}"`).join('.');
}
