/**
 * The PostgreSQL schema: one database holds the global data (bucket-name directory, IAM/STS) and
 * the metadata of every region the deployment serves, each region's rows tagged with a `region`
 * column that leads every key and index (docs/decisions.md, "PostgreSQL: one schema, a region
 * column"). Append new migrations; never edit one that has shipped. `meridian migrate` applies them.
 *
 * Every column that holds an object key, bucket name, version id or an IAM name that is compared
 * or sorted is `COLLATE "C"`: S3 lists keys in UTF-8 byte order, and the database's default
 * collation (often en_US or ICU) orders 'B' after 'a' and ignores accents at first level. An index
 * with a different collation than the column would not serve `=` or ranges, so it is on the column.
 *
 * JSON documents are `text` (parsed by the store), as in SQLite: jsonb would reorder their keys.
 */
export const PG_MIGRATIONS: readonly { description: string; sql: string }[] = [
  {
    description: 'global directory and IAM; region buckets, versions, uploads, outbox, KMS',
    sql: `
  -- Global: bucket names are unique across regions and accounts.
  CREATE TABLE bucket_directory (
    name text COLLATE "C" PRIMARY KEY,
    region text NOT NULL,
    owner_account_id text COLLATE "C" NOT NULL
  );
  CREATE INDEX bucket_directory_owner ON bucket_directory (owner_account_id, name);

  CREATE TABLE iam_accounts (
    account_id text COLLATE "C" PRIMARY KEY,
    name text NOT NULL,
    created_at bigint NOT NULL
  );

  CREATE TABLE iam_access_keys (
    access_key_id text COLLATE "C" PRIMARY KEY,
    secret_access_key text NOT NULL,
    owner_type text NOT NULL,
    account_id text COLLATE "C" NOT NULL,
    principal_lc text COLLATE "C",
    owner text NOT NULL,
    status text NOT NULL,
    created_at bigint NOT NULL,
    session_token text,
    expires_at bigint
  );
  CREATE INDEX iam_access_keys_owner ON iam_access_keys (account_id, owner_type, principal_lc);
  CREATE INDEX iam_access_keys_expiry ON iam_access_keys (expires_at) WHERE expires_at IS NOT NULL;

  CREATE TABLE iam_users (
    account_id text COLLATE "C" NOT NULL,
    name_lc text COLLATE "C" NOT NULL,
    body text NOT NULL,
    PRIMARY KEY (account_id, name_lc)
  );

  CREATE TABLE iam_roles (
    account_id text COLLATE "C" NOT NULL,
    name_lc text COLLATE "C" NOT NULL,
    body text NOT NULL,
    PRIMARY KEY (account_id, name_lc)
  );

  CREATE TABLE iam_groups (
    account_id text COLLATE "C" NOT NULL,
    name_lc text COLLATE "C" NOT NULL,
    body text NOT NULL,
    PRIMARY KEY (account_id, name_lc)
  );

  CREATE TABLE iam_group_members (
    account_id text COLLATE "C" NOT NULL,
    group_lc text COLLATE "C" NOT NULL,
    user_lc text COLLATE "C" NOT NULL,
    PRIMARY KEY (account_id, group_lc, user_lc)
  );
  CREATE INDEX iam_group_members_user ON iam_group_members (account_id, user_lc);

  CREATE TABLE iam_inline_policies (
    account_id text COLLATE "C" NOT NULL,
    kind text NOT NULL,
    principal_lc text COLLATE "C" NOT NULL,
    policy_name_lc text COLLATE "C" NOT NULL,
    policy_name text NOT NULL,
    document text NOT NULL,
    PRIMARY KEY (account_id, kind, principal_lc, policy_name_lc)
  );

  CREATE TABLE iam_managed_policies (
    arn text COLLATE "C" PRIMARY KEY,
    account_id text COLLATE "C" NOT NULL,
    name_lc text COLLATE "C" NOT NULL,
    created_at bigint NOT NULL,
    body text NOT NULL,
    UNIQUE (account_id, name_lc)
  );

  CREATE TABLE iam_attachments (
    id bigserial PRIMARY KEY,
    account_id text COLLATE "C" NOT NULL,
    kind text NOT NULL,
    principal_lc text COLLATE "C" NOT NULL,
    policy_arn text COLLATE "C" NOT NULL,
    UNIQUE (account_id, kind, principal_lc, policy_arn)
  );
  CREATE INDEX iam_attachments_policy ON iam_attachments (policy_arn);

  -- One row: bumped by every IAM write in its own transaction, so its value changes only once
  -- the write is visible (IamStore.changeToken). A sequence would move before the commit.
  CREATE TABLE iam_generation (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    generation bigint NOT NULL
  );
  INSERT INTO iam_generation (generation) VALUES (0);

  -- Region: buckets and their configurations.
  CREATE TABLE buckets (
    region text COLLATE "C" NOT NULL,
    name text COLLATE "C" NOT NULL,
    bucket_region text NOT NULL,
    owner_account_id text NOT NULL,
    created_at bigint NOT NULL,
    versioning text NOT NULL,
    location_constraint text NOT NULL,
    object_ownership text,
    PRIMARY KEY (region, name)
  );

  CREATE TABLE bucket_configs (
    region text COLLATE "C" NOT NULL,
    bucket text COLLATE "C" NOT NULL,
    kind text COLLATE "C" NOT NULL,
    value text NOT NULL,
    PRIMARY KEY (region, bucket, kind),
    FOREIGN KEY (region, bucket) REFERENCES buckets (region, name) ON DELETE CASCADE
  );

  -- Every version and delete marker. seq (one sequence for all regions) orders a key's history:
  -- it is taken after the key's advisory lock, so a later write of a key always has a larger seq.
  -- is_latest marks the newest version of each key (at most one: the partial unique index).
  -- No ON DELETE CASCADE to buckets: deleting a bucket that still has versions fails.
  CREATE SEQUENCE object_versions_seq;
  CREATE TABLE object_versions (
    seq bigint PRIMARY KEY,
    region text COLLATE "C" NOT NULL,
    bucket text COLLATE "C" NOT NULL,
    key text COLLATE "C" NOT NULL,
    version_id text COLLATE "C" NOT NULL,
    is_latest boolean NOT NULL,
    is_delete_marker boolean NOT NULL,
    last_modified bigint NOT NULL,
    size bigint NOT NULL,
    etag text NOT NULL,
    owner_account_id text NOT NULL,
    storage_class text NOT NULL,
    content_type text,
    system_metadata text NOT NULL,
    user_metadata text NOT NULL,
    tags text,
    checksum text,
    encryption text,
    replication_status text,
    replication_detail text,
    parts text NOT NULL,
    inline_data bytea,
    FOREIGN KEY (region, bucket) REFERENCES buckets (region, name)
  );
  CREATE UNIQUE INDEX object_versions_id ON object_versions (region, bucket, key, version_id);
  -- ListObjectVersions order (keys ascending, newest first) and the newest-remaining lookup.
  CREATE INDEX object_versions_history ON object_versions (region, bucket, key, seq DESC);
  CREATE UNIQUE INDEX object_versions_latest ON object_versions (region, bucket, key) WHERE is_latest;
  -- ListObjectsV2 walks only keys whose latest version is an object.
  CREATE INDEX object_versions_current ON object_versions (region, bucket, key) WHERE is_latest AND NOT is_delete_marker;
  CREATE INDEX object_versions_failed ON object_versions (region, bucket) WHERE replication_status = 'FAILED';

  -- Which blob files a version uses (orphan sweep asks by file id).
  CREATE TABLE version_blobs (
    seq bigint NOT NULL REFERENCES object_versions (seq) ON DELETE CASCADE,
    region text COLLATE "C" NOT NULL,
    file_id text COLLATE "C" NOT NULL,
    PRIMARY KEY (seq, file_id)
  );
  CREATE INDEX version_blobs_file ON version_blobs (region, file_id);

  CREATE TABLE object_acls (
    seq bigint PRIMARY KEY REFERENCES object_versions (seq) ON DELETE CASCADE,
    acl text NOT NULL
  );

  CREATE SEQUENCE uploads_seq;
  CREATE TABLE uploads (
    region text COLLATE "C" NOT NULL,
    upload_id text COLLATE "C" NOT NULL,
    seq bigint NOT NULL DEFAULT nextval('uploads_seq'),
    bucket text COLLATE "C" NOT NULL,
    key text COLLATE "C" NOT NULL,
    initiated bigint NOT NULL,
    body text NOT NULL,
    PRIMARY KEY (region, upload_id),
    FOREIGN KEY (region, bucket) REFERENCES buckets (region, name)
  );
  CREATE INDEX uploads_by_key ON uploads (region, bucket, key, seq);

  CREATE TABLE upload_parts (
    region text COLLATE "C" NOT NULL,
    upload_id text COLLATE "C" NOT NULL,
    part_number integer NOT NULL,
    size bigint NOT NULL,
    etag text NOT NULL,
    last_modified bigint NOT NULL,
    checksum text,
    blob_file_id text COLLATE "C",
    blob_size bigint,
    inline_data bytea,
    PRIMARY KEY (region, upload_id, part_number),
    FOREIGN KEY (region, upload_id) REFERENCES uploads (region, upload_id) ON DELETE CASCADE
  );
  CREATE INDEX upload_parts_file ON upload_parts (region, blob_file_id) WHERE blob_file_id IS NOT NULL;

  CREATE TABLE completed_uploads (
    region text COLLATE "C" NOT NULL,
    upload_id text COLLATE "C" NOT NULL,
    bucket text COLLATE "C" NOT NULL,
    key text COLLATE "C" NOT NULL,
    completed_at bigint NOT NULL,
    body text NOT NULL,
    PRIMARY KEY (region, upload_id),
    FOREIGN KEY (region, bucket) REFERENCES buckets (region, name) ON DELETE CASCADE
  );
  CREATE INDEX completed_uploads_age ON completed_uploads (region, completed_at);

  -- Transactional outbox: written in the same transaction as the version it replicates. Workers
  -- of every gateway claim due tasks with FOR UPDATE SKIP LOCKED and a lease (claimed_until);
  -- never by "id above a high-water mark": ids commit out of order across keys.
  CREATE TABLE outbox (
    id bigserial PRIMARY KEY,
    region text COLLATE "C" NOT NULL,
    bucket text COLLATE "C" NOT NULL,
    key text COLLATE "C" NOT NULL,
    version_id text COLLATE "C" NOT NULL,
    operation text NOT NULL,
    destination_bucket text COLLATE "C" NOT NULL,
    rule_id text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    not_before bigint NOT NULL,
    created_at bigint NOT NULL,
    last_error text,
    parked boolean NOT NULL DEFAULT false,
    claimed_until bigint NOT NULL DEFAULT 0
  );
  CREATE INDEX outbox_due ON outbox (region, not_before, id) WHERE NOT parked;
  CREATE INDEX outbox_parked ON outbox (region, destination_bucket, id) WHERE parked;
  CREATE INDEX outbox_by_key ON outbox (region, bucket, key, destination_bucket, id);
  CREATE INDEX outbox_by_bucket ON outbox (region, bucket, created_at, id);

  -- KMS keys of each region (a multi-Region key has the same id in several regions).
  CREATE TABLE kms_keys (
    region text COLLATE "C" NOT NULL,
    account_id text COLLATE "C" NOT NULL,
    key_id text COLLATE "C" NOT NULL,
    created_at bigint NOT NULL,
    body text NOT NULL,
    PRIMARY KEY (region, account_id, key_id)
  );

  CREATE TABLE kms_aliases (
    region text COLLATE "C" NOT NULL,
    account_id text COLLATE "C" NOT NULL,
    alias_name text COLLATE "C" NOT NULL,
    target_key_id text COLLATE "C" NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    PRIMARY KEY (region, account_id, alias_name)
  );
  CREATE INDEX kms_aliases_target ON kms_aliases (region, account_id, target_key_id);

  CREATE TABLE kms_grants (
    region text COLLATE "C" NOT NULL,
    account_id text COLLATE "C" NOT NULL,
    key_id text COLLATE "C" NOT NULL,
    grant_id text COLLATE "C" NOT NULL,
    grant_token text COLLATE "C" NOT NULL,
    retiring_principal text COLLATE "C",
    created_at bigint NOT NULL,
    body text NOT NULL,
    PRIMARY KEY (region, account_id, key_id, grant_id),
    UNIQUE (region, grant_token)
  );
  CREATE INDEX kms_grants_retiring ON kms_grants (region, retiring_principal) WHERE retiring_principal IS NOT NULL;
  `,
  },
  {
    description: 'KMS change counter (the key caches of every gateway follow it)',
    sql: `
  -- Bumped in the writing transaction by a statement trigger, so a reader that sees the new number
  -- also sees the change (a sequence would move before the commit). One counter for all regions.
  CREATE TABLE kms_generation (generation bigint NOT NULL);
  INSERT INTO kms_generation (generation) VALUES (0);
  CREATE FUNCTION bump_kms_generation() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    UPDATE kms_generation SET generation = generation + 1;
    RETURN NULL;
  END $$;
  CREATE TRIGGER kms_keys_changed AFTER INSERT OR UPDATE OR DELETE ON kms_keys
    FOR EACH STATEMENT EXECUTE FUNCTION bump_kms_generation();
  CREATE TRIGGER kms_aliases_changed AFTER INSERT OR UPDATE OR DELETE ON kms_aliases
    FOR EACH STATEMENT EXECUTE FUNCTION bump_kms_generation();
  `,
  },
  {
    description: 'peer-protocol nonces seen by any gateway (split mode replay protection)',
    sql: `
  -- Split mode with several gateways per host: a signed peer request replayed to another gateway
  -- than the one that received it must be refused too, so the nonces are the database's.
  CREATE TABLE peer_nonces (
    nonce text COLLATE "C" PRIMARY KEY,
    expires_at bigint NOT NULL
  );
  CREATE INDEX peer_nonces_expiry ON peer_nonces (expires_at);
  `,
  },
];
