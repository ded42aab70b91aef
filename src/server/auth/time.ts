/** SigV4 timestamps: `YYYYMMDDTHHMMSSZ`, RFC 1123 `Date`, and the forms error documents use. */

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Epoch ms of an X-Amz-Date value, or undefined when it is not a valid basic ISO 8601 timestamp. */
export function parseAmzDate(s: string): number | undefined {
  const m = AMZ_DATE.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const t = Date.UTC(y, mo - 1, d, h, mi, se);
  const back = new Date(t);
  // Reject rolled-over values such as month 13 or 25:00.
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || back.getUTCHours() !== h || mi > 59 || se > 59) {
    return undefined;
  }
  return t;
}

/** Epoch ms of an RFC 1123 HTTP date (the `Date` header fallback). */
export function parseHttpDate(s: string): number | undefined {
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(s.trim())) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

/** `YYYYMMDDTHHMMSSZ` for an epoch ms (seconds precision). */
export function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** `YYYY-MM-DDTHH:MM:SSZ`, the form S3 uses for ServerTime / Expires elements. */
export function formatIsoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
