import { fileURLToPath, URL } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The console's page, built into the package (`dist/ui`) so a user runs no bundler: Preact with JSX
 * (Vite's Oxc transform, no plugin), one module script and one stylesheet, no inline scripts (the
 * server's content security policy allows none).
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: true,
  },
  logLevel: 'warn',
});
