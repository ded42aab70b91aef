/**
 * HTTPS with the operator's own certificate (MERIDIAN_TLS_CERT / MERIDIAN_TLS_KEY) instead of the
 * generated self-signed one: the listener presents exactly that certificate, serves S3 over it, and
 * a key that does not match stops the server at start with a message naming the variables.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { generate } from 'selfsigned';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';

async function certificate(commonName: string): Promise<{ cert: string; key: string }> {
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  return { cert: pems.cert, key: pems.private };
}

describe('TLS with the operator certificate', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-tls-'));
  let own: { cert: string; key: string };
  let m: MeridianProcess;

  before(async () => {
    own = await certificate('meridian-operator-test');
    writeFileSync(join(dir, 'cert.pem'), own.cert);
    writeFileSync(join(dir, 'key.pem'), own.key, { mode: 0o600 });
    m = await startMeridianProcess({ env: { MERIDIAN_TLS_CERT: join(dir, 'cert.pem'), MERIDIAN_TLS_KEY: join(dir, 'key.pem') } });
  });
  after(async () => {
    await m?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the HTTPS listener presents the operator certificate, and nothing is generated', async () => {
    const url = new URL(m.httpsEndpoint!);
    const presented = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: url.hostname, port: Number(url.port), ca: own.cert }, () => {
        resolve(socket.getPeerCertificate().fingerprint256);
        socket.end();
      });
      socket.once('error', reject);
    });
    assert.equal(presented, new X509Certificate(own.cert).fingerprint256);
    assert.equal(m.certFile, join(dir, 'cert.pem'));
    assert.equal(existsSync(join(m.dataDir, 'tls', 'cert.pem')), false);
  });

  test('S3 answers over it to a client that trusts only that certificate', async () => {
    const url = new URL(m.httpsEndpoint!);
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const r = request({ host: url.hostname, port: Number(url.port), path: '/', method: 'GET', ca: own.cert }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      r.once('error', reject);
      r.end();
    });
    assert.equal(reply.status, 403);
    assert.match(reply.body, /<Code>AccessDenied<\/Code>/);
  });

  test('a key that does not belong to the certificate stops the server at start, naming the variables', async () => {
    const other = await certificate('someone-else');
    writeFileSync(join(dir, 'other-key.pem'), other.key, { mode: 0o600 });
    await assert.rejects(
      startMeridianProcess({ env: { MERIDIAN_TLS_CERT: join(dir, 'cert.pem'), MERIDIAN_TLS_KEY: join(dir, 'other-key.pem') } }),
      /MERIDIAN_TLS_CERT \/ MERIDIAN_TLS_KEY: the key does not match the certificate/,
    );
  });
});
