/**
 * The HTTPS listener's certificate: generated self-signed into the data directory on first start
 * (for localhost and 127.0.0.1), so clients can trust it with AWS_CA_BUNDLE=<data>/tls/cert.pem.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { writeFileDurably } from '../common/durable-file.js';

export interface TlsMaterial {
  cert: string;
  key: string;
  certFile: string;
  generated: boolean;
}

export async function loadOrCreateCertificate(dataDir: string): Promise<TlsMaterial> {
  const dir = join(dataDir, 'tls');
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  if (existsSync(certFile) && existsSync(keyFile)) {
    return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile, generated: false };
  }
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    notAfterDate: new Date(Date.now() + 3650 * 24 * 3600 * 1000),
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 2, value: '*.localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  writeFileDurably(keyFile, pems.private, 0o600);
  writeFileDurably(certFile, pems.cert, 0o644);
  return { cert: pems.cert, key: pems.private, certFile, generated: true };
}
