import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

/** Structured JSON logs on stderr (stdout stays free for what commands print). */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'meridian' } }, pino.destination(2));
}
