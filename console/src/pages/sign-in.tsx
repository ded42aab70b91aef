/** Sign-in: the keys are checked with sts:GetCallerIdentity and kept in this tab's sessionStorage only. */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { useState } from 'preact/hooks';
import { sts } from '../aws';
import type { Credentials, Session } from '../session';
import { ErrorBox, TextInput } from '../ui';

export function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [accessKeyId, setAccessKeyId] = useState('');
  const [secretAccessKey, setSecret] = useState('');
  const [sessionToken, setToken] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    const credentials: Credentials = { accessKeyId: accessKeyId.trim(), secretAccessKey: secretAccessKey.trim() };
    if (sessionToken.trim()) credentials.sessionToken = sessionToken.trim();
    try {
      const who = await sts(credentials).send(new GetCallerIdentityCommand({}));
      onSignedIn({ credentials, arn: who.Arn ?? '', account: who.Account ?? '' });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="sign-in">
      <h1>Meridian console</h1>
      <p class="muted">Sign in with an access key. Your browser signs each request itself; the keys stay in this tab's session storage and are gone when you close it.</p>
      <form onSubmit={(e) => void submit(e)} aria-label="Sign in">
        <TextInput label="Access key ID" value={accessKeyId} onInput={setAccessKeyId} required autocomplete="username" />
        <TextInput label="Secret access key" type="password" value={secretAccessKey} onInput={setSecret} required autocomplete="current-password" />
        <TextInput label="Session token (optional)" value={sessionToken} onInput={setToken} hint="For temporary credentials from STS." />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      {error !== undefined && <ErrorBox error={error} title="Sign-in failed" />}
    </main>
  );
}
