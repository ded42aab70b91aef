// A node:test reporter that writes only the failures, one block each: file, line, the test's name and the
// error. `npm test` writes it to a file and prints it after the summary, so a CI log that keeps only its
// tail still names every failing test and why.
import { relative } from 'node:path';
import { inspect } from 'node:util';

const root = new URL('..', import.meta.url).pathname;

export default async function* failuresReporter(source) {
  const path = new Map(); // file -> names of the tests open at each nesting level
  for await (const event of source) {
    const { data } = event;
    if (event.type === 'test:start' || event.type === 'test:dequeue') {
      const names = path.get(data.file) ?? [];
      names[data.nesting] = data.name;
      names.length = data.nesting + 1;
      path.set(data.file, names);
    }
    if (event.type !== 'test:fail') continue;
    const error = data.details?.error;
    // A suite fails when one of its tests does; the test's own block already says why.
    if (error?.failureType === 'subtestsFailed') continue;
    const names = (path.get(data.file) ?? []).slice(0, data.nesting);
    const where = data.file ? `${relative(root, data.file)}${data.line ? `:${data.line}` : ''}` : '(unknown file)';
    const cause = error?.cause ?? error;
    const text = cause instanceof Error ? (cause.stack ?? String(cause)) : inspect(cause, { depth: 4 });
    yield `not ok: ${[...names, data.name].join(' > ')}\n  at ${where} (${error?.failureType ?? 'failure'})\n` +
      `${text.split('\n').slice(0, 14).map((l) => `  | ${l}`).join('\n')}\n\n`;
  }
}
