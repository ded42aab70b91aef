/**
 * The HTTPS listener's certificate: the operator's own (MERIDIAN_TLS_CERT / MERIDIAN_TLS_KEY, PEM
 * files), or else one generated self-signed into the data directory on first start (for localhost and
 * 127.0.0.1), so clients can trust it with AWS_CA_BUNDLE=<data>/tls/cert.pem.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { join } from 'node:path';
import { writeFileDurably } from '../common/durable-file.js';

export interface TlsMaterial {
  cert: string;
  key: string;
  certFile: string;
  generated: boolean;
}

/**
 * The operator's certificate (with its chain, if the file holds one) and private key. Checked at start:
 * an unreadable file, a file that is not PEM, or a key that does not belong to the certificate stops
 * the server with a message naming the variable, instead of failing every handshake later.
 */
export function loadOperatorCertificate(certFile: string, keyFile: string): TlsMaterial {
  const read = (file: string, name: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(`${name}: cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const cert = read(certFile, 'MERIDIAN_TLS_CERT');
  const key = read(keyFile, 'MERIDIAN_TLS_KEY');
  if (!/-----BEGIN CERTIFICATE-----/.test(cert)) throw new Error(`MERIDIAN_TLS_CERT: ${certFile} holds no PEM certificate`);
  if (!/-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/.test(key)) throw new Error(`MERIDIAN_TLS_KEY: ${keyFile} holds no PEM private key`);
  try {
    createSecureContext({ cert, key });
  } catch (e) {
    throw new Error(`MERIDIAN_TLS_CERT / MERIDIAN_TLS_KEY: the key does not match the certificate, or one of them is damaged (${e instanceof Error ? e.message : String(e)})`);
  }
  return { cert, key, certFile, generated: false };
}

export async function loadOrCreateCertificate(dataDir: string): Promise<TlsMaterial> {
  const dir = join(dataDir, 'tls');
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  if (existsSync(certFile) && existsSync(keyFile)) {
    return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile, generated: false };
  }
  // Loaded only to generate one (first start): about 16 MB per process otherwise, in every worker.
  const { generate } = await import('selfsigned');
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
