import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** True when the CLI itself runs from its `.ts` sources (inside the repository, through tsx): TypeScript loads already. */
const runsFromSources = import.meta.url.endsWith('.ts');

let registered = false;

/** Saga file names that need a TypeScript loader. */
export const isTypeScript = (file: string): boolean => /\.[cm]?ts$/u.test(file);

/**
 * Makes `import()` of TypeScript saga files work in the compiled CLI: registers tsx's ESM loader
 * once, the first time a `*.saga.ts` is met, so a command on compiled `*.saga.js` files (or none)
 * never pays for it. The files compile with the `tsconfig.json` nearest to the saga directory
 * (or the one `TSX_TSCONFIG_PATH` names); tsx transpiles without typechecking, so type errors
 * are the project's own `tsc`'s to report.
 */
export async function enableTypeScript(sagaDirectory: string): Promise<void> {
  if (runsFromSources || registered) return;
  const { register } = await import('tsx/esm/api');
  const tsconfig = process.env.TSX_TSCONFIG_PATH ?? nearestTsconfig(sagaDirectory);
  register(tsconfig === undefined ? {} : { tsconfig });
  registered = true;
}

function nearestTsconfig(directory: string): string | undefined {
  for (let dir = directory; ; dir = dirname(dir)) {
    const candidate = join(dir, 'tsconfig.json');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}
