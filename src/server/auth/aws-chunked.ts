/**
 * Incremental `aws-chunked` decoder (reference §5.10): unsigned chunks with a trailer, signed chunks,
 * and signed chunks with a signed trailer. Input may be split anywhere; memory stays bounded by
 * MAX_LINE (chunk data is passed through as zero-copy slices, never accumulated).
 */
import { createHash, type Hash } from 'node:crypto';
import { ServiceError } from '../../common/errors.js';
import { incompleteBody, malformedTrailer, signatureDoesNotMatch } from './auth-errors.js';
import { EMPTY_SHA256, sha256Hex, signString, signaturesEqual } from './signing-key.js';

/** Longest chunk-header or trailer line accepted (a signed header is ~90 bytes). */
export const MAX_LINE = 4096;
const MAX_TRAILER_LINES = 16;
const CR = 0x0d;
const LF = 0x0a;

export interface ChunkSigning {
  key: Buffer;
  amzDate: string;
  scope: string;
  /** Signature of the request headers: the "previous signature" of the first chunk. */
  seed: string;
  accessKeyId: string;
}

export interface AwsChunkedOptions {
  /** Verify `;chunk-signature=` on every chunk (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]). */
  signing?: ChunkSigning;
  /** A trailer section follows the final chunk. */
  trailer: boolean;
  /** Lower-case trailer names declared in x-amz-trailer; anything else is malformed. */
  declaredTrailers: ReadonlySet<string>;
  /** x-amz-decoded-content-length. */
  decodedLength: number;
  onData(data: Buffer): void;
}

type State = 'size' | 'data' | 'data-crlf' | 'final-crlf' | 'trailer' | 'done';

export function malformedChunk(detail: string): ServiceError {
  return incompleteBody(`The aws-chunked request body is malformed: ${detail}.`);
}

export class AwsChunkedDecoder {
  private state: State = 'size';
  private line: Buffer[] = [];
  private lineLength = 0;
  private remaining = 0; // data bytes left in the current chunk
  private crlfSeen = 0;
  private decoded = 0;
  private chunkHash: Hash | undefined;
  private chunkSignature = '';
  private previousSignature: string;
  private readonly trailerLines: string[] = [];
  readonly trailers = new Map<string, string>();

  constructor(private readonly opts: AwsChunkedOptions) {
    this.previousSignature = opts.signing?.seed ?? '';
  }

  get decodedLength(): number {
    return this.decoded;
  }

  write(buf: Buffer): void {
    let pos = 0;
    while (pos < buf.length) {
      switch (this.state) {
        case 'data': {
          const n = Math.min(this.remaining, buf.length - pos);
          const slice = buf.subarray(pos, pos + n);
          this.chunkHash?.update(slice);
          this.opts.onData(slice);
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            this.state = 'data-crlf';
            this.crlfSeen = 0;
          }
          break;
        }
        case 'data-crlf': {
          const expected = this.crlfSeen === 0 ? CR : LF;
          if (buf[pos] !== expected) throw malformedChunk('chunk data is not followed by CRLF');
          pos++;
          if (++this.crlfSeen === 2) this.finishChunk();
          break;
        }
        case 'done':
          throw malformedChunk('data after the end of the encoded body');
        default:
          pos = this.readLine(buf, pos);
      }
    }
  }

  /** Call at end of input; throws when the body stopped early or the length disagrees. */
  end(): void {
    if (this.state === 'trailer' || this.state === 'final-crlf') {
      // Tolerate a missing final CRLF: a partial last line still gets parsed (and then checked).
      if (this.lineLength > 0) {
        const line = this.takeLine();
        this.onLine(line[line.length - 1] === CR ? line.subarray(0, line.length - 1) : line);
      }
      if (this.state === 'trailer') this.finishTrailer();
      else this.state = 'done';
    }
    if (this.state !== 'done') throw incompleteBody();
    if (this.decoded !== this.opts.decodedLength) throw incompleteBody();
  }

  /** Accumulate up to the next LF; returns the new position. */
  private readLine(buf: Buffer, pos: number): number {
    const lf = buf.indexOf(LF, pos);
    const end = lf < 0 ? buf.length : lf;
    if (this.lineLength + (end - pos) > MAX_LINE) throw malformedChunk('header line too long');
    if (end > pos) {
      this.line.push(buf.subarray(pos, end));
      this.lineLength += end - pos;
    }
    if (lf < 0) return buf.length;
    const line = this.takeLine();
    if (line.length === 0 || line[line.length - 1] !== CR) throw malformedChunk('line not terminated by CRLF');
    this.onLine(line.subarray(0, line.length - 1));
    return lf + 1;
  }

  private takeLine(): Buffer {
    const line = this.line.length === 1 ? this.line[0]! : Buffer.concat(this.line, this.lineLength);
    this.line = [];
    this.lineLength = 0;
    return line;
  }

  private onLine(line: Buffer): void {
    const text = line.toString('latin1');
    if (this.state === 'size') this.onChunkHeader(text);
    else if (this.state === 'final-crlf') {
      if (text !== '') throw malformedChunk('unexpected data after the final chunk');
      this.state = 'done';
    } else if (text === '') this.finishTrailer();
    else {
      if (this.trailerLines.length >= MAX_TRAILER_LINES) throw malformedTrailer();
      this.trailerLines.push(text);
    }
  }

  private onChunkHeader(text: string): void {
    const semi = text.indexOf(';');
    const sizeText = semi < 0 ? text : text.slice(0, semi);
    if (!/^[0-9a-fA-F]{1,13}$/.test(sizeText)) throw malformedChunk(`invalid chunk size "${sizeText.slice(0, 32)}"`);
    const size = parseInt(sizeText, 16);
    let signature: string | undefined;
    if (semi >= 0) {
      for (const ext of text.slice(semi + 1).split(';')) {
        const eq = ext.indexOf('=');
        if (eq >= 0 && ext.slice(0, eq).trim() === 'chunk-signature') signature = ext.slice(eq + 1).trim();
      }
    }
    if (this.opts.signing) {
      if (signature === undefined) throw malformedChunk('missing chunk-signature');
      this.chunkSignature = signature;
      this.chunkHash = createHash('sha256');
    }
    if (this.decoded + size > this.opts.decodedLength) throw incompleteBody();
    this.decoded += size;
    if (size > 0) {
      this.remaining = size;
      this.state = 'data';
      return;
    }
    // The final, empty chunk: signed too, then either the trailer or a closing CRLF.
    if (this.opts.signing) this.verifyChunk(EMPTY_SHA256);
    this.chunkHash = undefined;
    this.state = this.opts.trailer ? 'trailer' : 'final-crlf';
  }

  private finishChunk(): void {
    if (this.chunkHash) this.verifyChunk(this.chunkHash.digest('hex'));
    this.chunkHash = undefined;
    this.state = 'size';
  }

  private verifyChunk(dataHash: string): void {
    const s = this.opts.signing!;
    const toSign = ['AWS4-HMAC-SHA256-PAYLOAD', s.amzDate, s.scope, this.previousSignature, EMPTY_SHA256, dataHash].join('\n');
    const expected = signString(s.key, toSign);
    if (!signaturesEqual(expected, this.chunkSignature)) {
      throw signatureDoesNotMatch(s.accessKeyId, toSign, this.chunkSignature);
    }
    this.previousSignature = this.chunkSignature;
  }

  private finishTrailer(): void {
    let trailerSignature: string | undefined;
    for (const line of this.trailerLines) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw malformedTrailer();
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'x-amz-trailer-signature' && this.opts.signing) {
        if (trailerSignature !== undefined) throw malformedTrailer();
        trailerSignature = value;
        continue;
      }
      if (!this.opts.declaredTrailers.has(name) || this.trailers.has(name)) throw malformedTrailer();
      this.trailers.set(name, value);
    }
    if (this.opts.signing) this.verifyTrailer(trailerSignature);
    this.state = 'done';
  }

  private verifyTrailer(provided: string | undefined): void {
    const s = this.opts.signing!;
    if (provided === undefined) throw malformedTrailer();
    const canonical = [...this.trailers.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([n, v]) => `${n}:${v}\n`)
      .join('');
    const toSign = ['AWS4-HMAC-SHA256-TRAILER', s.amzDate, s.scope, this.previousSignature, sha256Hex(canonical)].join('\n');
    if (!signaturesEqual(signString(s.key, toSign), provided)) {
      throw signatureDoesNotMatch(s.accessKeyId, toSign, provided);
    }
  }
}
