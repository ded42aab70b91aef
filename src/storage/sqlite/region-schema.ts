/**
 * Schema of a region's database file: buckets and their configurations, object versions, multipart
 * uploads, the replication outbox, and the region's KMS keys. Append new migrations; never edit
 * one that has shipped.
 *
 * Keys are TEXT COLLATE BINARY: SQLite compares them with memcmp over their UTF-8 bytes, which is
 * S3's listing order. No NOCASE anywhere near object keys.
 */
export const REGION_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE buckets (
    name TEXT PRIMARY KEY COLLATE BINARY,
    region TEXT NOT NULL,
    owner_account_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    versioning TEXT NOT NULL,
    location_constraint TEXT NOT NULL,
    object_ownership TEXT
  );

  CREATE TABLE bucket_configs (
    bucket TEXT NOT NULL REFERENCES buckets(name) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (bucket, kind)
  );

  -- Every version and delete marker. seq orders history (larger = newer) and is never reused
  -- (AUTOINCREMENT), so "latest of a key" = highest seq. inline_data stays the last column so that
  -- reading the other columns never walks its overflow pages.
  CREATE TABLE object_versions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket TEXT NOT NULL REFERENCES buckets(name),
    key TEXT NOT NULL COLLATE BINARY,
    version_id TEXT NOT NULL COLLATE BINARY,
    is_delete_marker INTEGER NOT NULL,
    last_modified INTEGER NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    owner_account_id TEXT NOT NULL,
    storage_class TEXT NOT NULL,
    content_type TEXT,
    system_metadata TEXT NOT NULL,
    user_metadata TEXT NOT NULL,
    tags TEXT,
    checksum TEXT,
    encryption TEXT,
    replication_status TEXT,
    replication_detail TEXT,
    parts TEXT NOT NULL,
    inline_data BLOB
  );
  CREATE UNIQUE INDEX object_versions_id ON object_versions(bucket, key, version_id);
  -- Keys ascending, newest first: the ListObjectVersions order and the latest-of-key lookup.
  CREATE INDEX object_versions_history ON object_versions(bucket, key, seq DESC);

  -- Keys whose latest version is an object (not a delete marker): ListObjectsV2 walks only this.
  CREATE TABLE current_objects (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL COLLATE BINARY,
    seq INTEGER NOT NULL,
    PRIMARY KEY (bucket, key)
  ) WITHOUT ROWID;

  -- Which blob files a version uses (orphan sweep asks by file id).
  CREATE TABLE version_blobs (
    seq INTEGER NOT NULL REFERENCES object_versions(seq) ON DELETE CASCADE,
    file_id TEXT NOT NULL,
    PRIMARY KEY (seq, file_id)
  ) WITHOUT ROWID;
  CREATE INDEX version_blobs_file ON version_blobs(file_id);

  CREATE TABLE uploads (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    upload_id TEXT NOT NULL UNIQUE,
    bucket TEXT NOT NULL REFERENCES buckets(name),
    key TEXT NOT NULL COLLATE BINARY,
    initiated INTEGER NOT NULL,
    body TEXT NOT NULL
  );
  CREATE INDEX uploads_by_key ON uploads(bucket, key, seq);

  CREATE TABLE upload_parts (
    upload_id TEXT NOT NULL REFERENCES uploads(upload_id) ON DELETE CASCADE,
    part_number INTEGER NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified INTEGER NOT NULL,
    checksum TEXT,
    blob_file_id TEXT,
    blob_size INTEGER,
    inline_data BLOB
  );
  CREATE UNIQUE INDEX upload_parts_number ON upload_parts(upload_id, part_number);
  CREATE INDEX upload_parts_file ON upload_parts(blob_file_id) WHERE blob_file_id IS NOT NULL;

  -- Transactional outbox: written in the same transaction as the version it replicates.
  CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL COLLATE BINARY,
    version_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    destination_bucket TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    last_error TEXT,
    claimed_until INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX outbox_due ON outbox(not_before, id);
  CREATE INDEX outbox_by_bucket ON outbox(bucket);

  CREATE TABLE kms_keys (
    account_id TEXT NOT NULL,
    key_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (account_id, key_id)
  );

  CREATE TABLE kms_aliases (
    account_id TEXT NOT NULL,
    alias_name TEXT NOT NULL,
    target_key_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, alias_name)
  );
  CREATE INDEX kms_aliases_target ON kms_aliases(account_id, target_key_id);
  `,
  // 2: KMS grants (one JSON document per grant; the token is unique and looked up by RetireGrant).
  `
  CREATE TABLE kms_grants (
    account_id TEXT NOT NULL,
    key_id TEXT NOT NULL,
    grant_id TEXT NOT NULL,
    grant_token TEXT NOT NULL UNIQUE,
    retiring_principal TEXT,
    created_at INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (account_id, key_id, grant_id)
  );
  CREATE INDEX kms_grants_retiring ON kms_grants(retiring_principal) WHERE retiring_principal IS NOT NULL;
  `,
  // 3: object ACLs (only versions written with an ACL other than the default have a row).
  `
  CREATE TABLE object_acls (
    seq INTEGER PRIMARY KEY REFERENCES object_versions(seq) ON DELETE CASCADE,
    acl TEXT NOT NULL
  );
  `,
  // 4: parked outbox tasks (their destination is unreachable): out of the due index, so 100,000 of them
  // cost a claim nothing; a destination's parked tasks are found (and released) by its own index, and
  // a probe takes only a task with no older one of its key (per-key order).
  `
  ALTER TABLE outbox ADD COLUMN parked INTEGER NOT NULL DEFAULT 0;
  DROP INDEX outbox_due;
  CREATE INDEX outbox_due ON outbox(not_before, id) WHERE parked = 0;
  CREATE INDEX outbox_parked ON outbox(destination_bucket, id) WHERE parked = 1;
  CREATE INDEX outbox_by_key ON outbox(bucket, key, destination_bucket, id);
  `,
  // 5: completed multipart uploads, kept for a while so a retried CompleteMultipartUpload gets its answer again.
  `
  CREATE TABLE completed_uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL REFERENCES buckets(name) ON DELETE CASCADE,
    key TEXT NOT NULL COLLATE BINARY,
    completed_at INTEGER NOT NULL,
    body TEXT NOT NULL
  );
  CREATE INDEX completed_uploads_age ON completed_uploads(completed_at);
  `,
  // 6: a change counter for the KMS keys and aliases, bumped by triggers in the writing transaction,
  // so a process that caches key records (CachedKmsKeyStore) sees other processes' changes at once.
  `
  CREATE TABLE kms_changes (id INTEGER PRIMARY KEY CHECK (id = 0), n INTEGER NOT NULL);
  INSERT INTO kms_changes (id, n) VALUES (0, 0);
  CREATE TRIGGER kms_keys_ins AFTER INSERT ON kms_keys BEGIN UPDATE kms_changes SET n = n + 1 WHERE id = 0; END;
  CREATE TRIGGER kms_keys_upd AFTER UPDATE ON kms_keys BEGIN UPDATE kms_changes SET n = n + 1 WHERE id = 0; END;
  CREATE TRIGGER kms_keys_del AFTER DELETE ON kms_keys BEGIN UPDATE kms_changes SET n = n + 1 WHERE id = 0; END;
  CREATE TRIGGER kms_aliases_ins AFTER INSERT ON kms_aliases BEGIN UPDATE kms_changes SET n = n + 1 WHERE id = 0; END;
  CREATE TRIGGER kms_aliases_upd AFTER UPDATE ON kms_aliases BEGIN UPDATE kms_changes SET n = n + 1 WHERE id = 0; END;
  CREATE TRIGGER kms_aliases_del AFTER DELETE ON kms_aliases BEGIN UPDATE kms_changes SET n = n + 1 WHERE id = 0; END;
  `,
  // 7: replication status without scanning: a bucket's FAILED versions, and its tasks that already
  // failed once (retrying), each by its own small partial index instead of every version or task.
  `
  CREATE INDEX object_versions_failed ON object_versions(bucket) WHERE replication_status = 'FAILED';
  CREATE INDEX outbox_retrying ON outbox(bucket, created_at, id) WHERE attempts > 0;
  `,
  // 8: a change counter for buckets and their configurations, bumped by triggers in the writing
  // transaction, so a process that caches them (RegionBuckets) sees other processes' changes at once
  // and keeps its cache while they only write objects.
  `
  CREATE TABLE bucket_changes (id INTEGER PRIMARY KEY CHECK (id = 0), n INTEGER NOT NULL);
  INSERT INTO bucket_changes (id, n) VALUES (0, 0);
  CREATE TRIGGER buckets_ins AFTER INSERT ON buckets BEGIN UPDATE bucket_changes SET n = n + 1 WHERE id = 0; END;
  CREATE TRIGGER buckets_upd AFTER UPDATE ON buckets BEGIN UPDATE bucket_changes SET n = n + 1 WHERE id = 0; END;
  CREATE TRIGGER buckets_del AFTER DELETE ON buckets BEGIN UPDATE bucket_changes SET n = n + 1 WHERE id = 0; END;
  CREATE TRIGGER bucket_configs_ins AFTER INSERT ON bucket_configs BEGIN UPDATE bucket_changes SET n = n + 1 WHERE id = 0; END;
  CREATE TRIGGER bucket_configs_upd AFTER UPDATE ON bucket_configs BEGIN UPDATE bucket_changes SET n = n + 1 WHERE id = 0; END;
  CREATE TRIGGER bucket_configs_del AFTER DELETE ON bucket_configs BEGIN UPDATE bucket_changes SET n = n + 1 WHERE id = 0; END;
  `,
];
