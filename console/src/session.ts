/**
 * The signed-in identity: access key, secret and optional session token, kept in sessionStorage only
 * (gone when the tab closes; never in localStorage, cookies or the URL).
 */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface Session {
  credentials: Credentials;
  /** From sts:GetCallerIdentity at sign-in. */
  arn: string;
  account: string;
}

const KEY = 'meridian.console.session';

export function loadSession(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return undefined;
    const s = JSON.parse(raw) as Session;
    return s.credentials?.accessKeyId && s.credentials.secretAccessKey ? s : undefined;
  } catch {
    return undefined;
  }
}

export function saveSession(s: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(s));
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}
