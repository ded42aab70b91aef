/** KMS: keys per region (state, rotation, deletion window), aliases and the key policy editor. */
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  ListAliasesCommand,
  ListKeysCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  type AliasListEntry,
  type KeyMetadata,
} from '@aws-sdk/client-kms';
import { useEffect, useState } from 'preact/hooks';
import { kms } from '../aws-kms';
import { KNOWN_REGIONS } from '../lib/catalog';
import { when } from '../lib/format';
import { checkPolicy } from '../lib/json-check';
import { href, navigate } from '../router';
import { Button, Check, JsonEditor, Loading, Outcome, Select, Table, TextInput, pretty, useAction, useAsync } from '../ui';

interface KeyRow {
  meta: KeyMetadata;
  aliases: string[];
  rotation?: boolean;
}

async function loadKeys(region: string): Promise<KeyRow[]> {
  const client = kms(region);
  const [keys, aliases] = await Promise.all([client.send(new ListKeysCommand({ Limit: 1000 })), client.send(new ListAliasesCommand({ Limit: 100 }))]);
  const byKey = new Map<string, string[]>();
  for (const a of aliases.Aliases ?? []) if (a.TargetKeyId) byKey.set(a.TargetKeyId, [...(byKey.get(a.TargetKeyId) ?? []), a.AliasName!]);
  return Promise.all(
    (keys.Keys ?? []).map(async (k): Promise<KeyRow> => {
      const meta = (await client.send(new DescribeKeyCommand({ KeyId: k.KeyId! }))).KeyMetadata!;
      const row: KeyRow = { meta, aliases: byKey.get(k.KeyId!) ?? [] };
      if (meta.KeyManager === 'CUSTOMER' && meta.KeyState !== 'PendingDeletion') {
        row.rotation = await client
          .send(new GetKeyRotationStatusCommand({ KeyId: k.KeyId! }))
          .then((r) => !!r.KeyRotationEnabled)
          .catch(() => undefined as unknown as boolean);
      }
      return row;
    }),
  );
}

export function KmsPage({ query }: { query: URLSearchParams }) {
  const region = query.get('region') ?? 'us-east-1';
  const selected = query.get('key') ?? undefined;
  const keys = useAsync(() => loadKeys(region), [region]);
  return (
    <>
      <h1>KMS keys</h1>
      <div class="row">
        <Select label="KMS region" value={region} onChange={(r) => navigate(['kms'], { region: r })} options={[...KNOWN_REGIONS]} />
        <Button onClick={keys.reload}>Refresh</Button>
      </div>
      <CreateKey key={region} region={region} onCreated={keys.reload} />
      <section aria-labelledby="keys">
        <h2 id="keys">Keys in {region}</h2>
        <Loading state={keys}>
          {() =>
            keys.data!.length === 0 ? (
              <p class="muted">No keys in {region} yet.</p>
            ) : (
              <Table label={`Keys in ${region}`}>
                <thead>
                  <tr>
                    <th scope="col">Key</th>
                    <th scope="col">Aliases</th>
                    <th scope="col">State</th>
                    <th scope="col">Rotation</th>
                    <th scope="col">Deletion</th>
                    <th scope="col">Created</th>
                  </tr>
                </thead>
                <tbody>
                  {keys.data!.map((k) => (
                    <tr key={k.meta.KeyId} class={k.meta.KeyId === selected ? 'selected' : ''}>
                      <td>
                        <a href={href(['kms'], { region, key: k.meta.KeyId })} class="mono small" title={k.meta.Arn}>
                          {k.meta.KeyId}
                        </a>
                        {k.meta.KeyManager === 'AWS' && <span class="badge">AWS managed</span>}
                        {k.meta.MultiRegion && <span class="badge">multi-Region</span>}
                      </td>
                      <td>{k.aliases.join(', ') || '–'}</td>
                      <td>
                        <span class={`badge state-${k.meta.KeyState?.toLowerCase()}`}>{k.meta.KeyState}</span>
                      </td>
                      <td>{k.rotation === undefined ? '–' : k.rotation ? 'on' : 'off'}</td>
                      <td>{k.meta.DeletionDate ? when(k.meta.DeletionDate) : k.meta.PendingDeletionWindowInDays ? `${k.meta.PendingDeletionWindowInDays} days` : '–'}</td>
                      <td>{when(k.meta.CreationDate)}</td>
                    </tr>
                  ))}
                </tbody>
              </Table>
            )
          }
        </Loading>
      </section>
      {selected && <KeyDetail key={selected} region={region} keyId={selected} onChanged={keys.reload} />}
    </>
  );
}

function CreateKey({ region, onCreated }: { region: string; onCreated: () => void }) {
  const [description, setDescription] = useState('');
  const [alias, setAlias] = useState('');
  const [multiRegion, setMultiRegion] = useState(false);
  const action = useAction();
  return (
    <details class="card">
      <summary>Create a key in {region}</summary>
      <form
        aria-label="Create a key"
        onSubmit={(e) => {
          e.preventDefault();
          void action.run(async () => {
            const out = await kms(region).send(new CreateKeyCommand({ Description: description, MultiRegion: multiRegion }));
            const arn = out.KeyMetadata!.Arn!;
            if (alias.trim()) await kms(region).send(new CreateAliasCommand({ AliasName: alias.trim().startsWith('alias/') ? alias.trim() : `alias/${alias.trim()}`, TargetKeyId: out.KeyMetadata!.KeyId! }));
            onCreated();
            setDescription('');
            setAlias('');
            return `Created ${arn}`;
          });
        }}
      >
        <div class="grid">
          <TextInput label="Description" value={description} onInput={setDescription} />
          <TextInput label="Alias (optional)" value={alias} onInput={setAlias} placeholder="alias/my-key" />
        </div>
        <Check label="Multi-Region key" checked={multiRegion} onChange={setMultiRegion} />
        <button type="submit" class="primary" disabled={action.busy}>
          Create key
        </button>
        <Outcome action={action} />
      </form>
    </details>
  );
}

function KeyDetail({ region, keyId, onChanged }: { region: string; keyId: string; onChanged: () => void }) {
  const client = kms(region);
  const detail = useAsync(async () => {
    const [meta, aliases, policy] = await Promise.all([
      client.send(new DescribeKeyCommand({ KeyId: keyId })),
      client.send(new ListAliasesCommand({ KeyId: keyId })),
      client.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' })),
    ]);
    return { meta: meta.KeyMetadata!, aliases: aliases.Aliases ?? ([] as AliasListEntry[]), policy: policy.Policy ?? '' };
  }, [region, keyId]);
  const [policy, setPolicy] = useState('');
  const [windowDays, setWindowDays] = useState('30');
  const [newAlias, setNewAlias] = useState('');
  // Only a changed policy replaces what is in the editor (other actions reload the key too).
  useEffect(() => setPolicy(detail.data ? pretty(JSON.parse(detail.data.policy)) : ''), [detail.data?.policy]);
  const action = useAction();
  const policyAction = useAction();
  const op = (what: () => Promise<unknown>, msg: string) =>
    void action.run(async () => {
      await what();
      detail.reload();
      onChanged();
      return msg;
    });
  return (
    <section class="card" aria-labelledby="key-detail">
      <h2 id="key-detail">Key {keyId}</h2>
      <Loading state={detail}>
        {() => {
          const m = detail.data!.meta;
          const customer = m.KeyManager === 'CUSTOMER';
          return (
            <>
              <dl class="props">
                <dt>ARN</dt>
                <dd class="mono small">{m.Arn}</dd>
                <dt>State</dt>
                <dd>{m.KeyState}</dd>
                <dt>Description</dt>
                <dd>{m.Description || '–'}</dd>
                <dt>Usage / spec</dt>
                <dd>
                  {m.KeyUsage} / {m.KeySpec}
                </dd>
                {m.DeletionDate && (
                  <>
                    <dt>Deletion date</dt>
                    <dd>{when(m.DeletionDate)}</dd>
                  </>
                )}
              </dl>
              {customer && (
                <div class="row wrap">
                  {m.KeyState === 'Enabled' && <Button onClick={() => op(() => client.send(new DisableKeyCommand({ KeyId: keyId })), 'Key disabled.')}>Disable key</Button>}
                  {m.KeyState === 'Disabled' && <Button onClick={() => op(() => client.send(new EnableKeyCommand({ KeyId: keyId })), 'Key enabled.')}>Enable key</Button>}
                  {m.KeyState !== 'PendingDeletion' && (
                    <>
                      <Button onClick={() => op(() => client.send(new EnableKeyRotationCommand({ KeyId: keyId })), 'Rotation enabled.')}>Enable rotation</Button>
                      <Button onClick={() => op(() => client.send(new DisableKeyRotationCommand({ KeyId: keyId })), 'Rotation disabled.')}>Disable rotation</Button>
                      <TextInput label="Deletion window (days, 7–30)" value={windowDays} onInput={setWindowDays} type="number" />
                      <Button class="danger" onClick={() => op(() => client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: Number(windowDays) })), 'Deletion scheduled.')}>
                        Schedule deletion
                      </Button>
                    </>
                  )}
                  {m.KeyState === 'PendingDeletion' && <Button onClick={() => op(() => client.send(new CancelKeyDeletionCommand({ KeyId: keyId })), 'Deletion cancelled; the key is disabled.')}>Cancel deletion</Button>}
                </div>
              )}
              <Outcome action={action} />
              <h3>Aliases</h3>
              <ul>
                {detail.data!.aliases.map((a) => (
                  <li key={a.AliasName}>
                    {a.AliasName}{' '}
                    {customer && (
                      <Button class="link" aria-label={`Delete ${a.AliasName}`} onClick={() => op(() => client.send(new DeleteAliasCommand({ AliasName: a.AliasName! })), `Deleted ${a.AliasName}.`)}>
                        Delete
                      </Button>
                    )}
                  </li>
                ))}
              </ul>
              {customer && (
                <form
                  class="row"
                  onSubmit={(e) => {
                    e.preventDefault();
                    const name = newAlias.trim().startsWith('alias/') ? newAlias.trim() : `alias/${newAlias.trim()}`;
                    op(() => client.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: keyId })), `Created ${name}.`);
                    setNewAlias('');
                  }}
                >
                  <TextInput label="New alias" value={newAlias} onInput={setNewAlias} placeholder="alias/name" />
                  <button type="submit">Add alias</button>
                </form>
              )}
              <h3>Key policy</h3>
              <JsonEditor label="Key policy" value={policy} onInput={setPolicy} check={(t) => checkPolicy(t, 'key')} serverError={policyAction.error} rows={16} />
              <Button
                class="primary"
                busy={policyAction.busy}
                disabled={!customer}
                onClick={() =>
                  void policyAction.run(async () => {
                    await client.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: policy }));
                    detail.reload();
                    return 'Key policy saved.';
                  })
                }
              >
                Save key policy
              </Button>
              {policyAction.done && (
                <p class="ok" role="status">
                  {policyAction.done}
                </p>
              )}
            </>
          );
        }}
      </Loading>
    </section>
  );
}
