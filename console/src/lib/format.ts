/** Small display helpers. */
export function bytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '–';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function ms(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  return v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(v < 10_000 ? 2 : 1)} s`;
}

export function when(d: Date | string | number | undefined): string {
  if (d === undefined) return '–';
  const date = d instanceof Date ? d : new Date(d);
  if (Number.isNaN(date.getTime())) return String(d);
  return date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** The last path segment of an S3 key under a prefix ('a/b/c.txt' under 'a/' → 'b/c.txt'). */
export function relativeKey(key: string, prefix: string): string {
  return key.startsWith(prefix) ? key.slice(prefix.length) : key;
}

/** The parent of a '/'-delimited prefix ('a/b/' → 'a/', 'a/' → ''). */
export function parentPrefix(prefix: string): string {
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  const i = trimmed.lastIndexOf('/');
  return i < 0 ? '' : trimmed.slice(0, i + 1);
}
