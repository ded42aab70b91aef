/** Starts Meridian: the fabric, the HTTP listener and the HTTPS listener with its generated certificate. */
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { OffsetClock, systemClock, type Clock } from '../common/clock.js';
import { ensureDefaultAccount, type RootCredentials } from './accounts.js';
import type { Config } from './config.js';
import { openPostgresMetadata } from '../storage/index.js';
import { Fabric } from './fabric.js';
import { createRequestListener } from './http-adapter.js';
import { capConnections, serverOptions } from './http-limits.js';
import { createLogger, type Logger } from './logger.js';
import { RequestPipeline } from './request-pipeline.js';
import { loadOperatorCertificate, loadOrCreateCertificate } from './tls.js';
import type { WorkerGroup } from './worker-group.js';

export interface RunningMeridian {
  fabric: Fabric;
  http: Server;
  https?: HttpsServer;
  httpPort: number;
  httpsPort?: number;
  /** Split mode: the listeners for peers (MERIDIAN_PEER_PORT, MERIDIAN_PEER_TLS_PORT), when configured. */
  peerPort?: number;
  peerTlsPort?: number;
  certFile?: string;
  /** Whether certFile is the operator's (MERIDIAN_TLS_CERT) rather than generated. */
  operatorCert?: boolean;
  root: RootCredentials;
  rootGenerated: boolean;
  close(): Promise<void>;
}

function listen(server: Server | HttpsServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * An Expect header other than 100-continue is ignored, as AWS does, instead of node's 417: the
 * request is served like any other.
 */
function acceptAnyExpectation(server: Server | HttpsServer): void {
  server.on('checkExpectation', (req, res) => server.emit('request', req, res));
  // Expect: 100-continue: "100 Continue" goes out only when something starts reading the body,
  // i.e. after the request is authenticated and its headers accepted, so a request refused on its
  // headers is refused before the client sends a byte of its body (node would send it at once).
  server.on('checkContinue', (req, res) => {
    const onListener = (event: string | symbol) => {
      if (event !== 'data' && event !== 'readable') return;
      req.off('newListener', onListener);
      if (!res.headersSent && !res.writableEnded) res.writeContinue();
    };
    req.on('newListener', onListener);
    server.emit('request', req, res);
  });
}

/**
 * CONNECT (a proxy tunnel request) is not an S3 method: answered 405 MethodNotAllowed in S3's shape
 * and the connection closed, instead of node's default of dropping the socket without an answer.
 */
function refuseConnect(server: Server | HttpsServer): void {
  server.on('connect', (_req, socket: Duplex) => {
    const body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>MethodNotAllowed</Code><Message>The specified method is not allowed against this resource.</Message><Method>CONNECT</Method><ResourceType>SERVICE</ResourceType></Error>';
    socket.on('error', () => socket.destroy());
    socket.end(`HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\nAllow: GET, PUT, POST, DELETE, HEAD, OPTIONS\r\nConnection: close\r\n\r\n${body}`);
  });
}

const pick = ({ cert, key }: { cert: string | Buffer; key: string | Buffer }) => ({ cert, key });

export async function startMeridian(config: Config, opts: { clock?: Clock; log?: Logger; group?: WorkerGroup } = {}): Promise<RunningMeridian> {
  const log = opts.log ?? createLogger(config.logLevel);
  const clock = opts.clock ?? (config.testClock ? new OffsetClock() : systemClock);
  // PostgreSQL: the schema must be this build's (SchemaVersionMismatch says to run `meridian migrate`).
  const pg = config.metadataUrl ? await openPostgresMetadata(config.metadataUrl, { applicationName: 'meridian gateway', max: config.metadataPoolSize }) : undefined;
  const fabric = new Fabric(config, clock, log, opts.group, pg);
  const envKeys = config.rootAccessKeyId && config.rootSecretAccessKey ? { accessKeyId: config.rootAccessKeyId, secretAccessKey: config.rootSecretAccessKey } : undefined;
  const { credentials, generated } = await ensureDefaultAccount(fabric.global.iam, config.dataDir, config.accountId, clock.now(), envKeys);
  // Resume replication that was pending when the process stopped.
  for (const region of fabric.existingRegions()) fabric.region(region);
  // Split mode: the regions served here start their replication workers at once.
  for (const region of config.split?.regions ?? []) fabric.region(region);

  const pipelineStages = new RequestPipeline(fabric);
  const limits = config.limits;
  // The certificate of the HTTPS listeners, read (or generated) once for both.
  let certificate: Promise<Awaited<ReturnType<typeof loadOrCreateCertificate>>> | undefined;
  const tlsCertificate = () =>
    (certificate ??= config.tlsCertFile && config.tlsKeyFile ? Promise.resolve(loadOperatorCertificate(config.tlsCertFile, config.tlsKeyFile)) : loadOrCreateCertificate(config.dataDir));
  const servers: (Server | HttpsServer)[] = [];
  const serve = async (tls: boolean, port: number): Promise<{ server: Server | HttpsServer; port: number }> => {
    const server = tls
      ? createHttpsServer({ ...serverOptions(limits), ...pick(await tlsCertificate()) }, createRequestListener(pipelineStages, log, true, limits))
      : createServer(serverOptions(limits), createRequestListener(pipelineStages, log, false, limits));
    acceptAnyExpectation(server);
    refuseConnect(server);
    capConnections(server, limits, log);
    servers.push(server);
    return { server, port: await listen(server, port, config.host) };
  };
  const http = await serve(false, config.port);
  const running: RunningMeridian = {
    fabric,
    http: http.server as Server,
    httpPort: http.port,
    root: credentials,
    rootGenerated: generated,
    close: async () => {
      await Promise.all(
        servers.map((server) => {
          const closed = new Promise<void>((r) => server.close(() => r()));
          server.closeAllConnections();
          return closed;
        }),
      );
      await fabric.close();
    },
  };
  if (config.tlsPort !== null) {
    const https = await serve(true, config.tlsPort);
    running.https = https.server as HttpsServer;
    running.httpsPort = https.port;
    const tls = await tlsCertificate();
    running.certFile = tls.certFile;
    running.operatorCert = config.tlsCertFile !== undefined;
  }
  // Split mode: the other processes' connections accepted on listeners of their own. Node accepts one
  // connection per turn of the event loop, so on the clients' listener a peer's new connection waits
  // behind every client connection queued before it (seconds under load); here nothing is ahead of it.
  if (config.peerPort !== undefined) running.peerPort = (await serve(false, config.peerPort)).port;
  if (config.peerTlsPort !== undefined) {
    running.peerTlsPort = (await serve(true, config.peerTlsPort)).port;
    // The peers' MERIDIAN_PEER_CA needs it even when clients have no HTTPS port.
    running.certFile ??= (await tlsCertificate()).certFile;
    running.operatorCert ??= config.tlsCertFile !== undefined;
  }
  return running;
}
