/** Regions and buckets: every bucket with its region, and the create form (region, versioning, encryption, ownership, BPA). */
import {
  CreateBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  type CreateBucketCommandInput,
  type ObjectOwnership,
} from '@aws-sdk/client-s3';
import { useState } from 'preact/hooks';
import { s3 } from '../aws';
import { bucketRegion, keyChoices, KNOWN_REGIONS, listBuckets } from '../lib/catalog';
import { when } from '../lib/format';
import { href } from '../router';
import { Button, Check, Loading, Outcome, Select, Table, TextInput, useAction, useAsync } from '../ui';

export function BucketsPage() {
  const buckets = useAsync(listBuckets, []);
  const [filter, setFilter] = useState('');
  return (
    <>
      <h1>Buckets</h1>
      <CreateBucket onCreated={buckets.reload} />
      <section aria-labelledby="bucket-list">
        <h2 id="bucket-list">All buckets</h2>
        <Loading state={buckets}>
          {() => {
            const regions = [...new Set(buckets.data!.map((b) => b.region))].sort();
            const shown = buckets.data!.filter((b) => !filter || b.region === filter).sort((a, b) => a.name.localeCompare(b.name));
            return (
              <>
                <div class="row">
                  <Select label="Region" value={filter} onChange={setFilter} options={[['', `All regions (${regions.length})`], ...regions.map((r): [string, string] => [r, `${r} (${buckets.data!.filter((b) => b.region === r).length})`])]} />
                  <Button onClick={buckets.reload}>Refresh</Button>
                </div>
                {shown.length === 0 ? (
                  <p class="muted">No buckets yet.</p>
                ) : (
                  <Table label="Buckets">
                    <thead>
                      <tr>
                        <th scope="col">Name</th>
                        <th scope="col">Region</th>
                        <th scope="col">Created</th>
                        <th scope="col">Manage</th>
                      </tr>
                    </thead>
                    <tbody>
                      {shown.map((b) => (
                        <tr key={b.name}>
                          <td>
                            <a href={href(['bucket', b.name])}>{b.name}</a>
                          </td>
                          <td>{b.region}</td>
                          <td>{when(b.created)}</td>
                          <td class="actions">
                            <a href={href(['bucket', b.name, 'settings'])} aria-label={`Settings of ${b.name}`}>
                              Settings
                            </a>
                            <a href={href(['bucket', b.name, 'replication'])} aria-label={`Replication of ${b.name}`}>
                              Replication
                            </a>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </Table>
                )}
              </>
            );
          }}
        </Loading>
      </section>
    </>
  );
}

function CreateBucket({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [region, setRegion] = useState('us-east-1');
  const [versioning, setVersioning] = useState(true);
  const [encryption, setEncryption] = useState<'AES256' | 'aws:kms'>('AES256');
  const [keyArn, setKeyArn] = useState('');
  const [bucketKey, setBucketKey] = useState(false);
  const [ownership, setOwnership] = useState<ObjectOwnership>('BucketOwnerEnforced');
  const [bpa, setBpa] = useState(true);
  const keys = useAsync(() => (encryption === 'aws:kms' ? keyChoices(region) : Promise.resolve([])), [region, encryption]);
  const action = useAction();
  const create = () =>
    action.run(async () => {
      const bucket = name.trim();
      const client = s3(region);
      const input: CreateBucketCommandInput = { Bucket: bucket, ObjectOwnership: ownership };
      if (region !== 'us-east-1') input.CreateBucketConfiguration = { LocationConstraint: region as never };
      await client.send(new CreateBucketCommand(input));
      const steps: string[] = [];
      await client.send(
        new PutPublicAccessBlockCommand({
          Bucket: bucket,
          PublicAccessBlockConfiguration: { BlockPublicAcls: bpa, IgnorePublicAcls: bpa, BlockPublicPolicy: bpa, RestrictPublicBuckets: bpa },
        }),
      );
      if (versioning) {
        await client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
        steps.push('versioning enabled');
      }
      if (encryption === 'aws:kms') {
        await client.send(
          new PutBucketEncryptionCommand({
            Bucket: bucket,
            ServerSideEncryptionConfiguration: {
              Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', ...(keyArn ? { KMSMasterKeyID: keyArn } : {}) }, BucketKeyEnabled: bucketKey }],
            },
          }),
        );
        steps.push(`default encryption SSE-KMS${keyArn ? ` with ${keyArn}` : ''}`);
      }
      await bucketRegion(bucket);
      onCreated();
      setName('');
      return `Created ${bucket} in ${region}${steps.length ? `: ${steps.join(', ')}` : ''}.`;
    });
  return (
    <details class="card" open>
      <summary>Create a bucket</summary>
      <form
        aria-label="Create a bucket"
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
      >
        <div class="grid">
          <TextInput label="Bucket name" value={name} onInput={setName} required hint="3–63 lowercase letters, digits, dots and hyphens." />
          <Select label="Bucket region" value={region} onChange={setRegion} options={[...KNOWN_REGIONS]} />
          <Select
            label="Object Ownership"
            value={ownership}
            onChange={(v) => setOwnership(v as ObjectOwnership)}
            options={[
              ['BucketOwnerEnforced', 'Bucket owner enforced (ACLs disabled)'],
              ['BucketOwnerPreferred', 'Bucket owner preferred'],
              ['ObjectWriter', 'Object writer'],
            ]}
          />
          <Select
            label="Default encryption"
            value={encryption}
            onChange={(v) => setEncryption(v as 'AES256' | 'aws:kms')}
            options={[
              ['AES256', 'SSE-S3 (AES256)'],
              ['aws:kms', 'SSE-KMS (aws:kms)'],
            ]}
          />
          {encryption === 'aws:kms' && (
            <>
              <TextInput label="Default KMS key" value={keyArn} onInput={setKeyArn} list="create-bucket-keys" placeholder="aws/s3 managed key when empty" />
              <datalist id="create-bucket-keys">
                {(keys.data ?? []).map((k) => (
                  <option key={k.arn} value={k.arn}>
                    {k.label}
                  </option>
                ))}
              </datalist>
              <Check label="Bucket Key" checked={bucketKey} onChange={setBucketKey} />
            </>
          )}
        </div>
        <Check label="Enable versioning" checked={versioning} onChange={setVersioning} />
        <Check label="Block all public access" checked={bpa} onChange={setBpa} />
        <button type="submit" class="primary" disabled={action.busy}>
          Create bucket
        </button>
        <Outcome action={action} />
      </form>
    </details>
  );
}
