/**
 * Replication as an operator sees it: `meridian replication status|wait|explain|events`, the
 * Prometheus endpoint under AWS's metric names, and events in S3's notification shape delivered
 * to the log, a webhook and the streaming endpoint.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { signRequest } from '../../src/server/auth/index.js';
import { eventually, s3Client } from '../support/clients.js';
import { meridianCli } from '../support/meridian-cli.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { setUpReplication } from '../support/replication-setup.js';
import { signedFetch } from './signed-fetch.js';

interface Posted {
  Records: { eventName: string; s3: { bucket: { name: string }; object: { key: string } }; replicationEventData: { failureReason?: string } }[];
}

describe('replication observability', () => {
  let m: MeridianProcess;
  let hook: Server;
  const posted: Posted[] = [];

  before(async () => {
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        posted.push(JSON.parse(body) as Posted);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const port = (hook.address() as AddressInfo).port;
    m = await startMeridianProcess({ tls: false, env: { MERIDIAN_REPLICATION_WEBHOOK: `http://127.0.0.1:${port}/events` } });
  });

  after(async () => {
    await m?.stop();
    await new Promise((r) => hook.close(r));
  });

  /** Open the event stream and collect its lines until closed. */
  function tail(bucket: string): { lines: string[]; close(): void } {
    const url = new URL(`${m.httpEndpoint}/_meridian/replication/events?bucket=${bucket}`);
    const headers = signRequest({ method: 'GET', url, headers: {} }, { accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey }, 'us-east-1', 's3');
    const lines: string[] = [];
    const req = request(url, { headers }, (res) => {
      let buf = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        buf += d;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const l = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (l) lines.push(l);
        }
      });
      res.on('error', () => undefined);
    });
    req.on('error', () => undefined);
    req.end();
    return { lines, close: () => req.destroy() };
  }

  it('a failure is FAILED in status by reason, explained with the missing permission, and an event everywhere', async () => {
    const s = await setUpReplication(m, { withoutKmsEncrypt: true });
    const stream = tail(s.src);
    await new Promise((r) => setTimeout(r, 200));
    const s3 = s3Client(m);
    const put = await s3.send(new PutObjectCommand({ Bucket: s.src, Key: 'doc.txt', Body: 'hello', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: s.srcKeyArn }));
    await eventually(async () => ((await s3.send(new HeadObjectCommand({ Bucket: s.src, Key: 'doc.txt' }))).ReplicationStatus === 'FAILED' ? true : undefined));

    const status = await meridianCli(m, ['replication', 'status', '--bucket', s.src, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const report = JSON.parse(status.stdout);
    assert.equal(report.pending.operations, 0);
    assert.deepEqual(report.failed.byReason.map((f: { reason: string; count: number }) => [f.reason, f.count]), [['DstPutObjectNotPermitted', 1]]);
    const text = await meridianCli(m, ['replication', 'status', '--bucket', s.src]);
    assert.match(text.stdout, /DstPutObjectNotPermitted: 1/);

    const explained = await meridianCli(m, ['replication', 'explain', '--bucket', s.src, '--key', 'doc.txt', '--version-id', put.VersionId!]);
    assert.equal(explained.code, 0, explained.stderr);
    const out = explained.stdout;
    assert.match(out, /assume the replication role \(trust policy\): sts:AssumeRole .* allowed/);
    assert.match(out, /decrypt the data key \(source region KMS\): kms:Decrypt on .* allowed/);
    assert.match(out, /write the replica: s3:ReplicateObject .* allowed/);
    assert.match(out, /kms:Encrypt on .* DENIED/);
    assert.ok(out.includes(`Add kms:Encrypt on ${s.destKeyArn} to role ${s.roleArn}`), out);
    assert.match(out, /fails with DstPutObjectNotPermitted/);

    await eventually(async () => (stream.lines.length > 0 ? true : undefined));
    stream.close();
    const record = JSON.parse(stream.lines[0]!).Records[0];
    assert.equal(record.eventName, 'Replication:OperationFailedReplication');
    assert.equal(record.replicationEventData.failureReason, 'DstPutObjectNotPermitted');
    assert.equal(record.s3.object.versionId, put.VersionId);
    const webhook = await eventually(async () => posted.find((p) => p.Records[0]!.s3.bucket.name === s.src));
    assert.equal(webhook.Records[0]!.replicationEventData.failureReason, 'DstPutObjectNotPermitted');
    assert.ok(m.logs().includes('"msg":"replication event"'), 'the log carries the event');

    const metrics = (await signedFetch(m, 'GET', '/_meridian/metrics')).text;
    assert.match(metrics, new RegExp(`^OperationsFailedReplication\\{SourceBucket="${s.src}",DestinationBucket="${s.dest}",RuleId="[^"]+"\\} 1$`, 'm'));
  });

  it('wait returns when nothing is pending; status then shows lag percentiles and no failures', async () => {
    const s = await setUpReplication(m);
    const s3 = s3Client(m);
    await Promise.all(Array.from({ length: 20 }, (_, i) => s3.send(new PutObjectCommand({ Bucket: s.src, Key: `k${i}`, Body: `body ${i}`, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: s.srcKeyArn }))));
    const waited = await meridianCli(m, ['replication', 'wait', '--bucket', s.src, '--timeout', '60', '--json']);
    assert.equal(waited.code, 0, waited.stderr);
    const report = JSON.parse(waited.stdout);
    assert.equal(report.pending.operations, 0);
    assert.equal(report.failed.total, 0);
    assert.equal(report.lag.count, 20);
    assert.ok(report.lag.p50Ms >= 0 && report.lag.p99Ms >= report.lag.p50Ms);
    for (let i = 0; i < 20; i++) assert.equal((await s3.send(new HeadObjectCommand({ Bucket: s.src, Key: `k${i}` }))).ReplicationStatus, 'COMPLETED');
    const explained = await meridianCli(m, ['replication', 'explain', '--bucket', s.src, '--key', 'k0']);
    assert.match(explained.stdout, /every check passes/);
  });

  it('the endpoints need a signed, authorized caller', async () => {
    const anonymous = await fetch(`${m.httpEndpoint}/_meridian/replication/status?bucket=any`);
    assert.equal(anonymous.status, 403);
    const missing = await meridianCli(m, ['replication', 'status', '--bucket', 'no-such-bucket-here']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /NoSuchBucket/);
  });
});
