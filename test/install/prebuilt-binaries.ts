/**
 * Test double of better-sqlite3's GitHub release downloads, which this machine cannot reach.
 *
 * better-sqlite3 installs with `prebuild-install`, which downloads a prebuilt binary for the
 * running Node from the package's GitHub releases and compiles from source (about a minute and a
 * half) only when that fails. This server hands out the binary the repository's own install
 * built, under the release's file name, at the address `npm_config_better_sqlite3_binary_host`
 * points prebuild-install to. A project that resolves another better-sqlite3 version finds
 * nothing here and compiles, which is slower but still correct.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The release host, running. */
export interface PrebuiltBinaries {
  /** The environment that sends prebuild-install here. */
  readonly env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** Packs the repository's better-sqlite3 binary as its release asset (in `dir`) and serves it. */
export async function servePrebuiltBinaries(dir: string): Promise<PrebuiltBinaries> {
  const require = createRequire(import.meta.url);
  const packageDir = dirname(require.resolve('better-sqlite3/package.json'));
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string };
  const asset = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, asset);
  execFileSync('tar', ['-czf', file, '-C', packageDir, 'build/Release/better_sqlite3.node']);
  const body = readFileSync(file);
  const server = createServer((request, response) => {
    if (request.url === `/v${version}/${asset}`) {
      response.writeHead(200, { 'content-type': 'application/gzip', 'content-length': body.length }).end(body);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    env: { npm_config_better_sqlite3_binary_host: `http://127.0.0.1:${port}` },
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
