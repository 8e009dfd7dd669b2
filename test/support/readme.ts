import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

/** The text of the README section titled `## title`, up to the next `## `. */
export function readmeSection(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no section "## ${title}"`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** The titles of the README's `## ` sections, in order. */
export const readmeSections = (): string[] => [...readme.matchAll(/^## (.+)$/gmu)].map(([, title = '']) => title);

/** The fenced code blocks of `section` in language `lang` (```ts, ```bash), as written. */
export const codeBlocks = (section: string, lang: string): string[] =>
  [...section.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'gu'))].map(([, code = '']) => code);

/** The commands of a ```bash block: one a line, each without its trailing `# comment`. */
export const commandsOf = (block: string): string[] =>
  block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/u, '').trim())
    .filter((line) => line !== '');
