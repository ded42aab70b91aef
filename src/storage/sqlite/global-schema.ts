/**
 * Schema of the global database file: the bucket-name directory and IAM/STS. Append new
 * migrations; never edit one that has shipped.
 *
 * IAM names (users, roles, policies) are unique case-insensitively within an account, as in AWS:
 * each table keys on a lower-cased copy (`*_lc`) and keeps the name as created for display.
 */
export const GLOBAL_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE bucket_directory (
    name TEXT PRIMARY KEY COLLATE BINARY,
    region TEXT NOT NULL,
    owner_account_id TEXT NOT NULL
  );
  CREATE INDEX bucket_directory_owner ON bucket_directory(owner_account_id, name);

  CREATE TABLE iam_accounts (
    account_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );

  -- Looked up on every signed request: primary-key access only.
  CREATE TABLE iam_access_keys (
    access_key_id TEXT PRIMARY KEY,
    secret_access_key TEXT NOT NULL,
    owner_type TEXT NOT NULL,
    account_id TEXT NOT NULL,
    principal_lc TEXT,
    owner TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    session_token TEXT,
    expires_at INTEGER
  );
  CREATE INDEX iam_access_keys_owner ON iam_access_keys(account_id, owner_type, principal_lc);
  CREATE INDEX iam_access_keys_expiry ON iam_access_keys(expires_at) WHERE expires_at IS NOT NULL;

  CREATE TABLE iam_users (
    account_id TEXT NOT NULL,
    name_lc TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (account_id, name_lc)
  );

  CREATE TABLE iam_roles (
    account_id TEXT NOT NULL,
    name_lc TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (account_id, name_lc)
  );

  CREATE TABLE iam_inline_policies (
    account_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    principal_lc TEXT NOT NULL,
    policy_name_lc TEXT NOT NULL,
    policy_name TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (account_id, kind, principal_lc, policy_name_lc)
  );

  CREATE TABLE iam_managed_policies (
    arn TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    name_lc TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (account_id, name_lc)
  );

  CREATE TABLE iam_attachments (
    id INTEGER PRIMARY KEY,
    account_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    principal_lc TEXT NOT NULL,
    policy_arn TEXT NOT NULL,
    UNIQUE (account_id, kind, principal_lc, policy_arn)
  );
  CREATE INDEX iam_attachments_policy ON iam_attachments(policy_arn);
  `,
  // 2: IAM groups and their members.
  `
  CREATE TABLE iam_groups (
    account_id TEXT NOT NULL,
    name_lc TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (account_id, name_lc)
  );

  CREATE TABLE iam_group_members (
    account_id TEXT NOT NULL,
    group_lc TEXT NOT NULL,
    user_lc TEXT NOT NULL,
    PRIMARY KEY (account_id, group_lc, user_lc)
  );
  CREATE INDEX iam_group_members_user ON iam_group_members(account_id, user_lc);
  `,
];
