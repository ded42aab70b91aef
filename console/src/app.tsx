/** The console's frame: sign-in, navigation and the page for the current route. */
import type { FunctionComponent } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { setCredentials } from './aws';
import { BucketsPage } from './pages/buckets';
import { SignIn } from './pages/sign-in';
import { href, useRoute } from './router';
import { clearSession, loadSession, saveSession, type Session } from './session';
import { SessionContext } from './ui';

/**
 * A page loaded on first use: the first view (sign-in, buckets) carries only the S3 and STS clients;
 * KMS, IAM, uploads and the rest arrive with the pages that need them.
 */
function lazyPage<P>(load: () => Promise<FunctionComponent<P>>): FunctionComponent<P> {
  let loaded: FunctionComponent<P> | undefined;
  let loading: Promise<unknown> | undefined;
  return (props: P) => {
    const [, ready] = useState(0);
    const [error, setError] = useState<unknown>(undefined);
    useEffect(() => {
      if (loaded) return;
      loading ??= load().then((c) => (loaded = c));
      loading.then(
        () => ready(1),
        (e: unknown) => {
          loading = undefined;
          setError(e);
        },
      );
    }, []);
    if (loaded) {
      const Page = loaded;
      return <Page {...(props as P & object)} />;
    }
    return error ? (
      <p role="alert">This page could not be loaded ({String(error)}). Reload to try again.</p>
    ) : (
      <p class="muted" role="status">
        Loading…
      </p>
    );
  };
}

const BucketSettingsPage = lazyPage(() => import('./pages/bucket-settings').then((m) => m.BucketSettingsPage));
const ReplicationPage = lazyPage(() => import('./pages/replication').then((m) => m.ReplicationPage));
const ObjectsPage = lazyPage(() => import('./pages/objects').then((m) => m.ObjectsPage));
const KmsPage = lazyPage(() => import('./pages/kms').then((m) => m.KmsPage));
const IamPage = lazyPage(() => import('./pages/iam').then((m) => m.IamPage));
const EventsPage = lazyPage(() => import('./pages/events').then((m) => m.EventsPage));

const NAV: [string, string][] = [
  ['buckets', 'Buckets'],
  ['kms', 'KMS keys'],
  ['iam', 'IAM'],
  ['events', 'Replication events'],
];

function initialSession(): Session | undefined {
  const s = loadSession();
  setCredentials(s?.credentials);
  return s;
}

export function App() {
  const [session, setSession] = useState<Session | undefined>(initialSession);
  const route = useRoute();
  if (!session) {
    return (
      <SignIn
        onSignedIn={(s) => {
          saveSession(s);
          setCredentials(s.credentials);
          setSession(s);
        }}
      />
    );
  }
  const signOut = () => {
    clearSession();
    setCredentials(undefined);
    setSession(undefined);
  };
  const [section = 'buckets'] = route.path;
  return (
    <SessionContext.Provider value={session}>
      {/* Routes live in the hash, so the skip link moves focus itself instead of navigating. */}
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Meridian</span>
        <nav aria-label="Sections">
          {NAV.map(([id, label]) => (
            <a key={id} href={href([id])} aria-current={section === id || (id === 'buckets' && section === 'bucket') ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span class="who" title={session.arn}>
          {session.arn.replace(/^arn:aws:(iam|sts)::/, '')}
        </span>
        <button type="button" class="link" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Page section={section} rest={route.path.slice(1)} query={route.query} />
      </main>
    </SessionContext.Provider>
  );
}

function Page({ section, rest, query }: { section: string; rest: string[]; query: URLSearchParams }) {
  if (section === 'bucket' && rest[0]) {
    const bucket = rest[0];
    const view = rest[1] ?? 'objects';
    if (view === 'settings') return <BucketSettingsPage bucket={bucket} />;
    if (view === 'replication') return <ReplicationPage bucket={bucket} />;
    return <ObjectsPage bucket={bucket} query={query} />;
  }
  if (section === 'kms') return <KmsPage query={query} />;
  if (section === 'iam') return <IamPage rest={rest} query={query} />;
  if (section === 'events') return <EventsPage query={query} />;
  return <BucketsPage />;
}
