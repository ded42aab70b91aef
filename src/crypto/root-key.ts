/**
 * The region's root key: 32 bytes that wrap every KMS key material and the SSE-S3 key of the region.
 * Supplied by the operator (an environment value) or kept in a 0600 file in the region's data
 * directory, created on first use. Messages never include key bytes.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, linkSync, mkdirSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const ROOT_KEY_SIZE = 32;
const HEX_KEY = /^[0-9a-fA-F]{64}$/;
/** 32 bytes in standard or URL-safe base64: 43 characters and an optional '='. */
const BASE64_KEY = /^[A-Za-z0-9+/_-]{43}=?$/;
const POSIX = process.platform !== 'win32';

function errorCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/** Load the region's 32-byte root key: from `env` value if given (base64 or 64 hex), else from `file` (created 0600 with random bytes on first use). */
export function loadOrCreateRootKey(p: { file: string; env?: string }): Buffer {
  if (p.env !== undefined) return parseRootKey(p.env);
  return readRootKeyFile(p.file) ?? createRootKeyFile(p.file);
}

function parseRootKey(value: string): Buffer {
  const s = value.trim();
  if (HEX_KEY.test(s)) return Buffer.from(s, 'hex');
  if (BASE64_KEY.test(s)) {
    const key = Buffer.from(s, 'base64');
    if (key.length === ROOT_KEY_SIZE) return key;
  }
  throw new Error(
    `root key value is not 32 bytes written as 64 hex characters or base64 (the value given has ${s.length} characters)`,
  );
}

/** The key in `file`, or undefined if there is no such file. Refuses files others could read or that are not 32 bytes. */
function readRootKeyFile(file: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  try {
    // fstat on the open descriptor: checks the very file we read, even if the path is swapped meanwhile.
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`root key file ${file} is not a regular file`);
    if (POSIX && (st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
      throw new Error(`root key file ${file} is accessible by group or others (mode ${mode}); restrict it with: chmod 600 ${file}`);
    }
    if (st.size !== ROOT_KEY_SIZE) {
      throw new Error(`root key file ${file} holds ${st.size} bytes, expected ${ROOT_KEY_SIZE}; it is damaged or not a root key`);
    }
    const key = Buffer.alloc(ROOT_KEY_SIZE);
    let filled = 0;
    while (filled < ROOT_KEY_SIZE) {
      const n = readSync(fd, key, filled, ROOT_KEY_SIZE - filled, filled);
      if (n === 0) throw new Error(`root key file ${file} shrank while being read`);
      filled += n;
    }
    return key;
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a fresh key to a temp file (0600, fsynced) and publishes it under `file` with link(), which,
 * unlike rename(), never replaces an existing file: if two processes race on first start, both end
 * up with the one key on disk instead of one of them encrypting under a key that was overwritten.
 */
function createRootKeyFile(file: string): Buffer {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const key = randomBytes(ROOT_KEY_SIZE);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    let written = 0;
    while (written < ROOT_KEY_SIZE) written += writeSync(fd, key, written, ROOT_KEY_SIZE - written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    try {
      linkSync(tmp, file);
    } catch (err) {
      const code = errorCode(err);
      if (code === 'EEXIST') {
        key.fill(0);
        const existing = readRootKeyFile(file);
        if (!existing) throw new Error(`root key file ${file} vanished while being created`);
        return existing;
      }
      // Filesystems without hard links: fall back to rename (atomic, but could replace a racing writer's file).
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw err;
      renameSync(tmp, file);
    }
    fsyncDirectory(dir);
    return key;
  } finally {
    try {
      unlinkSync(tmp);
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw err;
    }
  }
}

/** Makes the new directory entry durable (POSIX; Windows cannot open directories for fsync). */
function fsyncDirectory(dir: string): void {
  if (!POSIX) return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
