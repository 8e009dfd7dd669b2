
/**
 * Human output: colour only when stdout is a terminal (and `NO_COLOR` is not set), tables padded
 * to their widest cell. Machine output (`--json`) never has colour.
 */
export const colourEnabled = (stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean =>
  stream.isTTY === true && env.NO_COLOR === undefined && env.TERM !== 'dumb';

type Paint = (text: string) => string;

/** ANSI styles, or identity functions when colour is off. */
export interface Palette {
  readonly enabled: boolean;
  readonly bold: Paint;
  readonly dim: Paint;
  readonly red: Paint;
  readonly green: Paint;
  readonly yellow: Paint;
  readonly blue: Paint;
  readonly magenta: Paint;
  readonly cyan: Paint;
}

const sgr = (open: number, close: number): Paint => (text) => (text === '' ? text : `\u001b[${open}m${text}\u001b[${close}m`);

export function palette(enabled = colourEnabled()): Palette {
  const plain: Paint = (text) => text;
  return enabled
    ? {
        enabled,
        bold: sgr(1, 22),
        dim: sgr(2, 22),
        red: sgr(31, 39),
        green: sgr(32, 39),
        yellow: sgr(33, 39),
        blue: sgr(34, 39),
        magenta: sgr(35, 39),
        cyan: sgr(36, 39),
      }
    : { enabled, bold: plain, dim: plain, red: plain, green: plain, yellow: plain, blue: plain, magenta: plain, cyan: plain };
}

/** A status in its colour: red stuck, yellow compensating/compensated, green completed. */
export function paintStatus(colours: Palette, status: string): string {
  switch (status) {
    case 'stuck':
      return colours.bold(colours.red(status));
    case 'compensating':
    case 'compensated':
      return colours.yellow(status);
    case 'completed':
      return colours.green(status);
    case 'cancelled':
      return colours.dim(status);
    default:
      return colours.cyan(status);
  }
}

// eslint-disable-next-line no-control-regex -- ANSI escape sequences are control characters by definition
const ansi = /\u001b\[[0-9;]*m/g;

/** Width of a cell as shown: escape sequences take no room. */
export const visibleWidth = (text: string): number => [...text.replace(ansi, '')].length;

/** Column alignment: numbers read best right-aligned. */
export type Align = 'left' | 'right';

/**
 * Renders a table: a header row (bold), then rows, columns separated by two spaces, the last column
 * not padded. Cells may hold colour.
 */
export function table(colours: Palette, headers: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = []): string {
  const widths = headers.map((header, column) => Math.max(visibleWidth(header), ...rows.map((row) => visibleWidth(row[column] ?? ''))));
  const line = (cells: readonly string[], paint: (text: string) => string = (text) => text): string =>
    cells
      .map((cell, column) => {
        const last = column === cells.length - 1;
        const room = (widths[column] ?? 0) - visibleWidth(cell);
        if (align[column] === 'right') return ' '.repeat(room) + paint(cell);
        return paint(cell) + (last ? '' : ' '.repeat(room));
      })
      .join('  ')
      .trimEnd();
  return [line(headers, colours.bold), ...rows.map((row) => line(row))].join('\n');
}

/** Writes text plus a newline to stdout. */
export const print = (text = ''): void => {
  process.stdout.write(`${text}\n`);
};

/** Writes one JSON document (pretty, two-space indent) to stdout. */
export const printJson = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};

/** Writes one JSON value on one line (NDJSON, for streams such as `watch`). */
export const printJsonLine = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`);
};

export { isoTime, parseStored } from '@sagaflow/inspect';

/** An instant for people: `2026-11-22 03:04:46Z` (UTC, to the second). */
export const humanTime = (epochMs: number): string => `${new Date(epochMs).toISOString().slice(0, 19).replace('T', ' ')}Z`;

/** The time of day, UTC, to the millisecond: `03:04:46.123`. */
export const timeOfDay = (epochMs: number): string => new Date(epochMs).toISOString().slice(11, 23);


/** A short one-line rendering of a JSON value (state values, compact inputs). */
export const compactJson = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value) ?? 'undefined');
