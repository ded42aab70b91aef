/**
 * A stream of lines for one subscriber (the replication events endpoint) with a bounded buffer. Lines
 * are produced as events happen, whether or not the subscriber reads; one that falls further behind
 * than the bound is dropped — its stream destroyed, its connection closed — so a slow or stalled
 * reader costs at most the bound in memory, never the whole event history.
 */
import { Readable } from 'node:stream';

/** Bytes of events one subscriber may have waiting before it is dropped. */
export const EVENT_STREAM_MAX_BUFFERED_BYTES = 1024 * 1024;

export interface LineStream {
  stream: Readable;
  /** Queue a line; false when the subscriber is gone (or was just dropped for falling behind). */
  send(line: string): boolean;
}

export function boundedLineStream(maxBufferedBytes: number, onDrop: (bufferedBytes: number) => void): LineStream {
  // Reading is driven by the consumer; lines arrive on their own schedule.
  const stream = new Readable({ read() {} });
  return {
    stream,
    send(line: string): boolean {
      if (stream.destroyed) return false;
      const bytes = Buffer.byteLength(line);
      if (stream.readableLength + bytes > maxBufferedBytes) {
        onDrop(stream.readableLength);
        stream.destroy();
        return false;
      }
      stream.push(line);
      return true;
    },
  };
}
