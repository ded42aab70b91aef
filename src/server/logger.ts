import cluster from 'node:cluster';
import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

/** Structured JSON logs on stderr (stdout stays free for what commands print); a cluster worker's lines name its pid. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'meridian', ...(cluster.isWorker ? { pid: process.pid } : {}) } }, pino.destination(2));
}
