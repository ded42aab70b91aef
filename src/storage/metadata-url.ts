/** What MERIDIAN_METADATA_URL may name. Its own module: the configuration reads it without loading the stores. */

/** Is this a PostgreSQL URL (the only database MERIDIAN_METADATA_URL can name today)? */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}
