/** A bucket's settings: versioning, default encryption, Object Ownership, Block Public Access, policy, tags, lifecycle, CORS. */
import {
  DeleteBucketCorsCommand,
  DeleteBucketLifecycleCommand,
  DeleteBucketPolicyCommand,
  DeleteBucketTaggingCommand,
  GetBucketCorsCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  PutBucketCorsCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  type ObjectOwnership,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { s3 } from '../aws';
import { bucketRegion, keyChoices } from '../lib/catalog';
import { checkJson, checkPolicy } from '../lib/json-check';
import { BucketHeader, orEmpty } from './bucket-tabs';
import { TagRows, type Tag } from './tag-rows';
import { Button, Check, JsonEditor, Loading, Outcome, Select, TextInput, pretty, useAction, useAsync } from '../ui';

export function BucketSettingsPage({ bucket }: { bucket: string }) {
  const region = useAsync(() => bucketRegion(bucket), [bucket]);
  return (
    <>
      <BucketHeader bucket={bucket} current="settings" />
      <h1>Settings of {bucket}</h1>
      <Loading state={region}>
        {() => {
          const client = s3(region.data!);
          return (
            <div class="cards">
              <Versioning bucket={bucket} client={client} />
              <Encryption bucket={bucket} client={client} region={region.data!} />
              <Ownership bucket={bucket} client={client} />
              <PublicAccess bucket={bucket} client={client} />
              <Policy bucket={bucket} client={client} />
              <BucketTags bucket={bucket} client={client} />
              <Lifecycle bucket={bucket} client={client} />
              <Cors bucket={bucket} client={client} />
            </div>
          );
        }}
      </Loading>
    </>
  );
}

interface SectionProps {
  bucket: string;
  client: S3Client;
}

function Card({ title, children }: { title: string; children: ComponentChildren }) {
  const id = `card-${title.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <section class="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

function Versioning({ bucket, client }: SectionProps) {
  const state = useAsync(() => client.send(new GetBucketVersioningCommand({ Bucket: bucket })), [bucket]);
  const action = useAction();
  const set = (Status: 'Enabled' | 'Suspended') =>
    action.run(async () => {
      await client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status } }));
      state.reload();
      return `Versioning ${Status.toLowerCase()}.`;
    });
  return (
    <Card title="Versioning">
      <Loading state={state}>
        {() => (
          <>
            <p>
              Status: <strong>{state.data!.Status ?? 'Never enabled'}</strong>
            </p>
            <div class="row">
              <Button busy={action.busy} disabled={state.data!.Status === 'Enabled'} onClick={() => void set('Enabled')}>
                Enable
              </Button>
              <Button busy={action.busy} disabled={state.data!.Status !== 'Enabled'} onClick={() => void set('Suspended')}>
                Suspend
              </Button>
            </div>
          </>
        )}
      </Loading>
      <Outcome action={action} />
    </Card>
  );
}

function Encryption({ bucket, client, region }: SectionProps & { region: string }) {
  const state = useAsync(() => orEmpty(client.send(new GetBucketEncryptionCommand({ Bucket: bucket }))), [bucket]);
  const [mode, setMode] = useState('AES256');
  const [key, setKey] = useState('');
  const [bucketKey, setBucketKey] = useState(false);
  const keys = useAsync(() => keyChoices(region), [region]);
  useEffect(() => {
    const rule = state.data?.ServerSideEncryptionConfiguration?.Rules?.[0];
    setMode(rule?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm ?? 'AES256');
    setKey(rule?.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID ?? '');
    setBucketKey(rule?.BucketKeyEnabled ?? false);
  }, [state.data]);
  const action = useAction();
  const save = () =>
    action.run(async () => {
      await client.send(
        new PutBucketEncryptionCommand({
          Bucket: bucket,
          ServerSideEncryptionConfiguration: {
            Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: mode as 'AES256', ...(mode === 'aws:kms' && key ? { KMSMasterKeyID: key } : {}) }, BucketKeyEnabled: mode === 'aws:kms' && bucketKey }],
          },
        }),
      );
      state.reload();
      return 'Default encryption saved.';
    });
  return (
    <Card title="Default encryption">
      <Loading state={state}>
        {() => (
          <>
            <Select
              label="Encryption type"
              value={mode}
              onChange={setMode}
              options={[
                ['AES256', 'SSE-S3 (AES256)'],
                ['aws:kms', 'SSE-KMS (aws:kms)'],
              ]}
            />
            {mode === 'aws:kms' && (
              <>
                <TextInput label="KMS key" value={key} onInput={setKey} list="settings-keys" placeholder="aws/s3 managed key when empty" />
                <datalist id="settings-keys">
                  {(keys.data ?? []).map((k) => (
                    <option key={k.arn} value={k.arn}>
                      {k.label}
                    </option>
                  ))}
                </datalist>
                <Check label="Bucket Key" checked={bucketKey} onChange={setBucketKey} />
              </>
            )}
            <Button busy={action.busy} onClick={() => void save()}>
              Save encryption
            </Button>
          </>
        )}
      </Loading>
      <Outcome action={action} />
    </Card>
  );
}

function Ownership({ bucket, client }: SectionProps) {
  const state = useAsync(() => orEmpty(client.send(new GetBucketOwnershipControlsCommand({ Bucket: bucket }))), [bucket]);
  const [value, setValue] = useState<string>('BucketOwnerEnforced');
  useEffect(() => setValue(state.data?.OwnershipControls?.Rules?.[0]?.ObjectOwnership ?? 'ObjectWriter'), [state.data]);
  const action = useAction();
  return (
    <Card title="Object Ownership">
      <Loading state={state}>
        {() => (
          <>
            <Select
              label="Object Ownership"
              value={value}
              onChange={setValue}
              options={[
                ['BucketOwnerEnforced', 'Bucket owner enforced (ACLs disabled)'],
                ['BucketOwnerPreferred', 'Bucket owner preferred'],
                ['ObjectWriter', 'Object writer'],
              ]}
            />
            <Button
              busy={action.busy}
              onClick={() =>
                void action.run(async () => {
                  await client.send(new PutBucketOwnershipControlsCommand({ Bucket: bucket, OwnershipControls: { Rules: [{ ObjectOwnership: value as ObjectOwnership }] } }));
                  state.reload();
                  return 'Object Ownership saved.';
                })
              }
            >
              Save ownership
            </Button>
          </>
        )}
      </Loading>
      <Outcome action={action} />
    </Card>
  );
}

const BPA_FIELDS = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'] as const;

function PublicAccess({ bucket, client }: SectionProps) {
  const state = useAsync(() => orEmpty(client.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))), [bucket]);
  const [flags, setFlags] = useState<Record<(typeof BPA_FIELDS)[number], boolean>>({ BlockPublicAcls: false, IgnorePublicAcls: false, BlockPublicPolicy: false, RestrictPublicBuckets: false });
  useEffect(() => {
    const c = state.data?.PublicAccessBlockConfiguration ?? {};
    setFlags({ BlockPublicAcls: !!c.BlockPublicAcls, IgnorePublicAcls: !!c.IgnorePublicAcls, BlockPublicPolicy: !!c.BlockPublicPolicy, RestrictPublicBuckets: !!c.RestrictPublicBuckets });
  }, [state.data]);
  const action = useAction();
  return (
    <Card title="Block Public Access">
      <Loading state={state}>
        {() => (
          <>
            {BPA_FIELDS.map((f) => (
              <Check key={f} label={f} checked={flags[f]} onChange={(v) => setFlags({ ...flags, [f]: v })} />
            ))}
            <Button
              busy={action.busy}
              onClick={() =>
                void action.run(async () => {
                  await client.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: flags }));
                  state.reload();
                  return 'Block Public Access saved.';
                })
              }
            >
              Save Block Public Access
            </Button>
          </>
        )}
      </Loading>
      <Outcome action={action} />
    </Card>
  );
}

function Policy({ bucket, client }: SectionProps) {
  const state = useAsync(() => orEmpty(client.send(new GetBucketPolicyCommand({ Bucket: bucket }))), [bucket]);
  const [text, setText] = useState('');
  useEffect(() => setText(state.data?.Policy ? pretty(JSON.parse(state.data.Policy)) : ''), [state.data]);
  const action = useAction();
  const example = pretty({ Version: '2012-10-17', Statement: [{ Sid: 'DenyInsecureTransport', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } } }] });
  return (
    <Card title="Bucket policy">
      <Loading state={state}>
        {() => (
          <>
            <JsonEditor label="Policy document" value={text} onInput={setText} check={(t) => (t.trim() ? checkPolicy(t, 'resource') : undefined)} serverError={action.error} />
            <div class="row">
              <Button
                class="primary"
                busy={action.busy}
                disabled={!text.trim()}
                onClick={() =>
                  void action.run(async () => {
                    await client.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: text }));
                    state.reload();
                    return 'Bucket policy saved.';
                  })
                }
              >
                Save policy
              </Button>
              <Button
                busy={action.busy}
                disabled={!state.data}
                onClick={() =>
                  void action.run(async () => {
                    await client.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
                    state.reload();
                    return 'Bucket policy deleted.';
                  })
                }
              >
                Delete policy
              </Button>
              {!text.trim() && <Button onClick={() => setText(example)}>Start from an example</Button>}
            </div>
          </>
        )}
      </Loading>
      {action.done && (
        <p class="ok" role="status">
          {action.done}
        </p>
      )}
    </Card>
  );
}

function BucketTags({ bucket, client }: SectionProps) {
  const state = useAsync(() => orEmpty(client.send(new GetBucketTaggingCommand({ Bucket: bucket }))), [bucket]);
  const [tags, setTags] = useState<Tag[]>([]);
  useEffect(() => setTags((state.data?.TagSet ?? []).map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' }))), [state.data]);
  const action = useAction();
  return (
    <Card title="Tags">
      <Loading state={state}>
        {() => (
          <>
            <TagRows label="Bucket tags" tags={tags} onChange={setTags} />
            <Button
              busy={action.busy}
              onClick={() =>
                void action.run(async () => {
                  if (tags.length === 0) await client.send(new DeleteBucketTaggingCommand({ Bucket: bucket }));
                  else await client.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: tags } }));
                  state.reload();
                  return 'Tags saved.';
                })
              }
            >
              Save tags
            </Button>
          </>
        )}
      </Loading>
      <Outcome action={action} />
    </Card>
  );
}

function JsonSetting<T>(props: {
  title: string;
  /** For buttons: 'lifecycle', 'CORS'. */
  noun: string;
  label: string;
  load: () => Promise<T | null>;
  toText: (v: T | null) => string;
  save: (parsed: unknown) => Promise<unknown>;
  remove: () => Promise<unknown>;
  example: unknown;
  deps: unknown[];
}) {
  const state = useAsync(props.load, props.deps);
  const [text, setText] = useState('');
  useEffect(() => setText(state.data === undefined ? '' : props.toText(state.data)), [state.data]);
  const action = useAction();
  return (
    <Card title={props.title}>
      <Loading state={{ ...state, data: state.data === undefined ? undefined : (state.data ?? 0) }}>
        {() => (
          <>
            <JsonEditor label={props.label} value={text} onInput={setText} check={(t) => (t.trim() ? checkJson(t) : undefined)} serverError={action.error} rows={10} />
            <div class="row">
              <Button
                busy={action.busy}
                disabled={!text.trim() || checkJson(text) !== undefined}
                onClick={() =>
                  void action.run(async () => {
                    await props.save(JSON.parse(text));
                    state.reload();
                    return `${props.title} saved.`;
                  })
                }
              >
                Save {props.noun}
              </Button>
              <Button
                busy={action.busy}
                disabled={!state.data}
                onClick={() =>
                  void action.run(async () => {
                    await props.remove();
                    state.reload();
                    return `${props.title} deleted.`;
                  })
                }
              >
                Delete {props.noun}
              </Button>
              {!text.trim() && <Button onClick={() => setText(pretty(props.example))}>Start from an example</Button>}
            </div>
          </>
        )}
      </Loading>
      {action.done && (
        <p class="ok" role="status">
          {action.done}
        </p>
      )}
    </Card>
  );
}

function Lifecycle({ bucket, client }: SectionProps) {
  return (
    <JsonSetting
      title="Lifecycle"
      noun="lifecycle"
      label="Lifecycle rules (JSON, as in put-bucket-lifecycle-configuration)"
      deps={[bucket]}
      load={() => orEmpty(client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })))}
      toText={(v) => (v?.Rules ? pretty(v.Rules) : '')}
      save={(rules) => client.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: rules as never } }))}
      remove={() => client.send(new DeleteBucketLifecycleCommand({ Bucket: bucket }))}
      example={[{ ID: 'expire-old-versions', Status: 'Enabled', Filter: { Prefix: 'logs/' }, NoncurrentVersionExpiration: { NoncurrentDays: 30 } }]}
    />
  );
}

function Cors({ bucket, client }: SectionProps) {
  return (
    <JsonSetting
      title="CORS"
      noun="CORS"
      label="CORS rules (JSON, as in put-bucket-cors)"
      deps={[bucket]}
      load={() => orEmpty(client.send(new GetBucketCorsCommand({ Bucket: bucket })))}
      toText={(v) => (v?.CORSRules ? pretty(v.CORSRules) : '')}
      save={(rules) => client.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: rules as never } }))}
      remove={() => client.send(new DeleteBucketCorsCommand({ Bucket: bucket }))}
      example={[{ AllowedOrigins: ['https://example.com'], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['*'], MaxAgeSeconds: 3000 }]}
    />
  );
}
