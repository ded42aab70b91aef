/** The console's frame: sign-in, navigation and the page for the current route. */
import { useState } from 'preact/hooks';
import { useCredentials } from './aws';
import { BucketsPage } from './pages/buckets';
import { BucketSettingsPage } from './pages/bucket-settings';
import { EventsPage } from './pages/events';
import { IamPage } from './pages/iam';
import { KmsPage } from './pages/kms';
import { ObjectsPage } from './pages/objects';
import { ReplicationPage } from './pages/replication';
import { SignIn } from './pages/sign-in';
import { href, useRoute } from './router';
import { clearSession, loadSession, saveSession, type Session } from './session';
import { SessionContext } from './ui';

const NAV: [string, string][] = [
  ['buckets', 'Buckets'],
  ['kms', 'KMS keys'],
  ['iam', 'IAM'],
  ['events', 'Replication events'],
];

function initialSession(): Session | undefined {
  const s = loadSession();
  useCredentials(s?.credentials);
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
          useCredentials(s.credentials);
          setSession(s);
        }}
      />
    );
  }
  const signOut = () => {
    clearSession();
    useCredentials(undefined);
    setSession(undefined);
  };
  const [section = 'buckets'] = route.path;
  return (
    <SessionContext.Provider value={session}>
      <a class="skip" href="#main">
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
