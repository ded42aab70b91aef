/** IAM: users, groups, roles, managed policies, access keys, and the policy simulator. */
import {
  AddUserToGroupCommand,
  AttachGroupPolicyCommand,
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreateGroupCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteGroupCommand,
  DeleteGroupPolicyCommand,
  DeletePolicyCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  DetachGroupPolicyCommand,
  DetachRolePolicyCommand,
  DetachUserPolicyCommand,
  GetGroupCommand,
  GetGroupPolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserPolicyCommand,
  ListAccessKeysCommand,
  ListAttachedGroupPoliciesCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupPoliciesCommand,
  ListGroupsCommand,
  ListGroupsForUserCommand,
  ListPoliciesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  ListUserPoliciesCommand,
  ListUsersCommand,
  PutGroupPolicyCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  RemoveUserFromGroupCommand,
  UpdateAccessKeyCommand,
  UpdateAssumeRolePolicyCommand,
  type AccessKey,
} from '@aws-sdk/client-iam';
import { useEffect, useState } from 'preact/hooks';
import { adminJson } from '../admin';
import { iam } from '../aws-iam';
import { when } from '../lib/format';
import { checkPolicy } from '../lib/json-check';
import { href, navigate } from '../router';
import { Button, Check, ErrorBox, JsonEditor, Loading, Outcome, Table, TextInput, pretty, useAction, useAsync, useSession } from '../ui';

type Tab = 'users' | 'groups' | 'roles' | 'policies' | 'simulator';
const TABS: [Tab, string][] = [
  ['users', 'Users'],
  ['groups', 'Groups'],
  ['roles', 'Roles'],
  ['policies', 'Policies'],
  ['simulator', 'Policy simulator'],
];

/** IAM returns policy documents URL-encoded. */
const doc = (d: string | undefined): string => {
  if (!d) return '';
  const text = d.trim().startsWith('%7B') || d.includes('%22') ? decodeURIComponent(d) : d;
  try {
    return pretty(JSON.parse(text));
  } catch {
    return text;
  }
};

export function IamPage({ rest, query }: { rest: string[]; query: URLSearchParams }) {
  const tab = (rest[0] as Tab) || 'users';
  const name = rest[1];
  return (
    <>
      <h1>IAM</h1>
      <nav class="tabs" aria-label="IAM">
        {TABS.map(([id, label]) => (
          <a key={id} href={href(['iam', id])} aria-current={id === tab ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
      {tab === 'users' && (name ? <UserDetail name={name} /> : <Users />)}
      {tab === 'groups' && (name ? <GroupDetail name={name} /> : <Groups />)}
      {tab === 'roles' && (name ? <RoleDetail name={name} /> : <Roles />)}
      {tab === 'policies' && <Policies selected={query.get('arn') ?? undefined} />}
      {tab === 'simulator' && <Simulator query={query} />}
    </>
  );
}

// ------------------------------------------------------------------------------------- users

function Users() {
  const users = useAsync(() => iam().send(new ListUsersCommand({ MaxItems: 1000 })), []);
  const [name, setName] = useState('');
  const action = useAction();
  return (
    <>
      <form
        class="card row wrap"
        aria-label="Create a user"
        onSubmit={(e) => {
          e.preventDefault();
          void action.run(async () => {
            await iam().send(new CreateUserCommand({ UserName: name.trim() }));
            users.reload();
            const created = name.trim();
            setName('');
            return `Created user ${created}.`;
          });
        }}
      >
        <TextInput label="New user name" value={name} onInput={setName} required />
        <button type="submit" class="primary" disabled={action.busy}>
          Create user
        </button>
        <Outcome action={action} />
      </form>
      <Loading state={users}>
        {() => (
          <Table label="Users">
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">ARN</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {(users.data!.Users ?? []).map((u) => (
                <tr key={u.UserName}>
                  <td>
                    <a href={href(['iam', 'users', u.UserName!])}>{u.UserName}</a>
                  </td>
                  <td class="mono small">{u.Arn}</td>
                  <td>{when(u.CreateDate)}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </Loading>
    </>
  );
}

function UserDetail({ name }: { name: string }) {
  const keys = useAsync(() => iam().send(new ListAccessKeysCommand({ UserName: name })), [name]);
  const groups = useAsync(() => iam().send(new ListGroupsForUserCommand({ UserName: name })), [name]);
  const [created, setCreated] = useState<AccessKey | undefined>(undefined);
  const [group, setGroup] = useState('');
  const action = useAction();
  return (
    <>
      <p class="crumbs">
        <a href={href(['iam', 'users'])}>Users</a> / {name}
      </p>
      <h2>User {name}</h2>
      <section class="card" aria-labelledby="keys">
        <h3 id="keys">Access keys</h3>
        <Loading state={keys}>
          {() => (
            <ul>
              {(keys.data!.AccessKeyMetadata ?? []).map((k) => (
                <li key={k.AccessKeyId}>
                  <span class="mono">{k.AccessKeyId}</span> <span class="badge">{k.Status}</span> {when(k.CreateDate)}{' '}
                  <Button
                    class="link"
                    onClick={() =>
                      void action.run(async () => {
                        await iam().send(new UpdateAccessKeyCommand({ UserName: name, AccessKeyId: k.AccessKeyId!, Status: k.Status === 'Active' ? 'Inactive' : 'Active' }));
                        keys.reload();
                      })
                    }
                  >
                    {k.Status === 'Active' ? 'Deactivate' : 'Activate'}
                  </Button>{' '}
                  <Button
                    class="link"
                    onClick={() =>
                      void action.run(async () => {
                        await iam().send(new DeleteAccessKeyCommand({ UserName: name, AccessKeyId: k.AccessKeyId! }));
                        keys.reload();
                      })
                    }
                  >
                    Delete
                  </Button>
                </li>
              ))}
            </ul>
          )}
        </Loading>
        <Button
          onClick={() =>
            void action.run(async () => {
              const out = await iam().send(new CreateAccessKeyCommand({ UserName: name }));
              setCreated(out.AccessKey);
              keys.reload();
            })
          }
        >
          Create access key
        </Button>
        {created && (
          <div class="secret" role="status">
            <p>New access key — the secret is shown only now:</p>
            <dl class="props">
              <dt>Access key ID</dt>
              <dd class="mono" data-testid="new-access-key-id">
                {created.AccessKeyId}
              </dd>
              <dt>Secret access key</dt>
              <dd class="mono" data-testid="new-secret-access-key">
                {created.SecretAccessKey}
              </dd>
            </dl>
          </div>
        )}
        <Outcome action={action} />
      </section>
      <section class="card" aria-labelledby="groups">
        <h3 id="groups">Groups</h3>
        <Loading state={groups}>
          {() => (
            <ul>
              {(groups.data!.Groups ?? []).map((g) => (
                <li key={g.GroupName}>
                  <a href={href(['iam', 'groups', g.GroupName!])}>{g.GroupName}</a>{' '}
                  <Button
                    class="link"
                    onClick={() =>
                      void action.run(async () => {
                        await iam().send(new RemoveUserFromGroupCommand({ UserName: name, GroupName: g.GroupName! }));
                        groups.reload();
                      })
                    }
                  >
                    Remove from group
                  </Button>
                </li>
              ))}
            </ul>
          )}
        </Loading>
        <form
          class="row"
          onSubmit={(e) => {
            e.preventDefault();
            void action.run(async () => {
              await iam().send(new AddUserToGroupCommand({ UserName: name, GroupName: group.trim() }));
              groups.reload();
              setGroup('');
            });
          }}
        >
          <TextInput label="Add to group" value={group} onInput={setGroup} />
          <button type="submit">Add</button>
        </form>
      </section>
      <InlinePolicies kind="user" name={name} />
      <AttachedPolicies kind="user" name={name} />
      <DeleteEntity kind="user" name={name} />
    </>
  );
}

// ------------------------------------------------------------------------------------ groups

function Groups() {
  const groups = useAsync(() => iam().send(new ListGroupsCommand({ MaxItems: 1000 })), []);
  const [name, setName] = useState('');
  const action = useAction();
  return (
    <>
      <form
        class="card row wrap"
        aria-label="Create a group"
        onSubmit={(e) => {
          e.preventDefault();
          void action.run(async () => {
            await iam().send(new CreateGroupCommand({ GroupName: name.trim() }));
            groups.reload();
            setName('');
          });
        }}
      >
        <TextInput label="New group name" value={name} onInput={setName} required />
        <button type="submit" class="primary">
          Create group
        </button>
        <Outcome action={action} />
      </form>
      <Loading state={groups}>
        {() => (
          <Table label="Groups">
            <thead>
              <tr>
                <th scope="col">Group</th>
                <th scope="col">ARN</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {(groups.data!.Groups ?? []).map((g) => (
                <tr key={g.GroupName}>
                  <td>
                    <a href={href(['iam', 'groups', g.GroupName!])}>{g.GroupName}</a>
                  </td>
                  <td class="mono small">{g.Arn}</td>
                  <td>{when(g.CreateDate)}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </Loading>
    </>
  );
}

function GroupDetail({ name }: { name: string }) {
  const group = useAsync(() => iam().send(new GetGroupCommand({ GroupName: name })), [name]);
  return (
    <>
      <p class="crumbs">
        <a href={href(['iam', 'groups'])}>Groups</a> / {name}
      </p>
      <h2>Group {name}</h2>
      <section class="card">
        <h3>Members</h3>
        <Loading state={group}>
          {() => (
            <ul>
              {(group.data!.Users ?? []).map((u) => (
                <li key={u.UserName}>
                  <a href={href(['iam', 'users', u.UserName!])}>{u.UserName}</a>
                </li>
              ))}
              {(group.data!.Users ?? []).length === 0 && <li class="muted">No members.</li>}
            </ul>
          )}
        </Loading>
      </section>
      <InlinePolicies kind="group" name={name} />
      <AttachedPolicies kind="group" name={name} />
      <DeleteEntity kind="group" name={name} />
    </>
  );
}

// ------------------------------------------------------------------------------------- roles

const S3_TRUST = pretty({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sts:AssumeRole' }] });

function Roles() {
  const roles = useAsync(() => iam().send(new ListRolesCommand({ MaxItems: 1000 })), []);
  const [name, setName] = useState('');
  const [trust, setTrust] = useState(S3_TRUST);
  const [policyName, setPolicyName] = useState('');
  const [policy, setPolicy] = useState('');
  const action = useAction();
  return (
    <>
      <details class="card" open>
        <summary>Create a role</summary>
        <form
          aria-label="Create a role"
          onSubmit={(e) => {
            e.preventDefault();
            void action.run(async () => {
              const out = await iam().send(new CreateRoleCommand({ RoleName: name.trim(), AssumeRolePolicyDocument: trust }));
              if (policy.trim()) await iam().send(new PutRolePolicyCommand({ RoleName: name.trim(), PolicyName: policyName.trim() || `${name.trim()}-permissions`, PolicyDocument: policy }));
              roles.reload();
              return `Created ${out.Role!.Arn}`;
            });
          }}
        >
          <TextInput label="Role name" value={name} onInput={setName} required />
          <JsonEditor label="Trust policy" value={trust} onInput={setTrust} check={(t) => checkPolicy(t, 'trust')} rows={8} />
          <TextInput label="Permissions policy name (optional)" value={policyName} onInput={setPolicyName} />
          <JsonEditor label="Permissions policy (optional inline policy)" value={policy} onInput={setPolicy} check={(t) => (t.trim() ? checkPolicy(t, 'identity') : undefined)} rows={10} />
          <button type="submit" class="primary" disabled={action.busy || !name.trim() || !!checkPolicy(trust, 'trust') || (!!policy.trim() && !!checkPolicy(policy, 'identity'))}>
            Create role
          </button>
          <Outcome action={action} />
        </form>
      </details>
      <Loading state={roles}>
        {() => (
          <Table label="Roles">
            <thead>
              <tr>
                <th scope="col">Role</th>
                <th scope="col">ARN</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {(roles.data!.Roles ?? []).map((r) => (
                <tr key={r.RoleName}>
                  <td>
                    <a href={href(['iam', 'roles', r.RoleName!])}>{r.RoleName}</a>
                  </td>
                  <td class="mono small">{r.Arn}</td>
                  <td>{when(r.CreateDate)}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </Loading>
    </>
  );
}

function RoleDetail({ name }: { name: string }) {
  const role = useAsync(() => iam().send(new GetRoleCommand({ RoleName: name })), [name]);
  const [trust, setTrust] = useState('');
  useEffect(() => setTrust(doc(role.data?.Role?.AssumeRolePolicyDocument)), [role.data]);
  const action = useAction();
  return (
    <>
      <p class="crumbs">
        <a href={href(['iam', 'roles'])}>Roles</a> / {name}
      </p>
      <h2>Role {name}</h2>
      <Loading state={role}>
        {() => (
          <section class="card">
            <p class="mono small">{role.data!.Role!.Arn}</p>
            <JsonEditor label="Trust policy" value={trust} onInput={setTrust} check={(t) => checkPolicy(t, 'trust')} serverError={action.error} rows={8} />
            <Button
              busy={action.busy}
              onClick={() =>
                void action.run(async () => {
                  await iam().send(new UpdateAssumeRolePolicyCommand({ RoleName: name, PolicyDocument: trust }));
                  role.reload();
                  return 'Trust policy saved.';
                })
              }
            >
              Save trust policy
            </Button>
            {action.done && (
              <p class="ok" role="status">
                {action.done}
              </p>
            )}
          </section>
        )}
      </Loading>
      <InlinePolicies kind="role" name={name} />
      <AttachedPolicies kind="role" name={name} />
      <DeleteEntity kind="role" name={name} />
    </>
  );
}

// ------------------------------------------------------------------ policies of an entity

type Kind = 'user' | 'group' | 'role';

const INLINE = {
  user: {
    list: (n: string) => iam().send(new ListUserPoliciesCommand({ UserName: n })),
    get: (n: string, p: string) => iam().send(new GetUserPolicyCommand({ UserName: n, PolicyName: p })),
    put: (n: string, p: string, d: string) => iam().send(new PutUserPolicyCommand({ UserName: n, PolicyName: p, PolicyDocument: d })),
    del: (n: string, p: string) => iam().send(new DeleteUserPolicyCommand({ UserName: n, PolicyName: p })),
  },
  group: {
    list: (n: string) => iam().send(new ListGroupPoliciesCommand({ GroupName: n })),
    get: (n: string, p: string) => iam().send(new GetGroupPolicyCommand({ GroupName: n, PolicyName: p })),
    put: (n: string, p: string, d: string) => iam().send(new PutGroupPolicyCommand({ GroupName: n, PolicyName: p, PolicyDocument: d })),
    del: (n: string, p: string) => iam().send(new DeleteGroupPolicyCommand({ GroupName: n, PolicyName: p })),
  },
  role: {
    list: (n: string) => iam().send(new ListRolePoliciesCommand({ RoleName: n })),
    get: (n: string, p: string) => iam().send(new GetRolePolicyCommand({ RoleName: n, PolicyName: p })),
    put: (n: string, p: string, d: string) => iam().send(new PutRolePolicyCommand({ RoleName: n, PolicyName: p, PolicyDocument: d })),
    del: (n: string, p: string) => iam().send(new DeleteRolePolicyCommand({ RoleName: n, PolicyName: p })),
  },
};

function InlinePolicies({ kind, name }: { kind: Kind; name: string }) {
  const ops = INLINE[kind];
  const list = useAsync(() => ops.list(name), [kind, name]);
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const [policyName, setPolicyName] = useState('');
  const [text, setText] = useState('');
  const action = useAction();
  useEffect(() => {
    if (!selected) return;
    void ops.get(name, selected).then((r) => setText(doc(r.PolicyDocument)), (e: unknown) => action.run(() => Promise.reject(e)));
    setPolicyName(selected);
  }, [selected]);
  return (
    <section class="card" aria-labelledby={`inline-${kind}`}>
      <h3 id={`inline-${kind}`}>Inline policies</h3>
      <Loading state={list}>
        {() => (
          <ul>
            {(list.data!.PolicyNames ?? []).map((p) => (
              <li key={p}>
                <Button class="link" onClick={() => setSelected(p)} aria-pressed={selected === p}>
                  {p}
                </Button>
              </li>
            ))}
            {(list.data!.PolicyNames ?? []).length === 0 && <li class="muted">None.</li>}
          </ul>
        )}
      </Loading>
      <TextInput label="Inline policy name" value={policyName} onInput={setPolicyName} />
      <JsonEditor label="Inline policy document" value={text} onInput={setText} check={(t) => (t.trim() ? checkPolicy(t, 'identity') : undefined)} serverError={action.error} rows={14} />
      <div class="row">
        <Button
          class="primary"
          busy={action.busy}
          disabled={!policyName.trim() || !text.trim()}
          onClick={() =>
            void action.run(async () => {
              await ops.put(name, policyName.trim(), text);
              list.reload();
              setSelected(policyName.trim());
              return `Saved inline policy ${policyName.trim()}.`;
            })
          }
        >
          Save inline policy
        </Button>
        <Button
          busy={action.busy}
          disabled={!selected}
          onClick={() =>
            void action.run(async () => {
              await ops.del(name, selected!);
              list.reload();
              setSelected(undefined);
              setText('');
              setPolicyName('');
              return 'Inline policy deleted.';
            })
          }
        >
          Delete inline policy
        </Button>
      </div>
      {action.done && (
        <p class="ok" role="status">
          {action.done}
        </p>
      )}
    </section>
  );
}

const ATTACHED = {
  user: {
    list: (n: string) => iam().send(new ListAttachedUserPoliciesCommand({ UserName: n })),
    attach: (n: string, a: string) => iam().send(new AttachUserPolicyCommand({ UserName: n, PolicyArn: a })),
    detach: (n: string, a: string) => iam().send(new DetachUserPolicyCommand({ UserName: n, PolicyArn: a })),
  },
  group: {
    list: (n: string) => iam().send(new ListAttachedGroupPoliciesCommand({ GroupName: n })),
    attach: (n: string, a: string) => iam().send(new AttachGroupPolicyCommand({ GroupName: n, PolicyArn: a })),
    detach: (n: string, a: string) => iam().send(new DetachGroupPolicyCommand({ GroupName: n, PolicyArn: a })),
  },
  role: {
    list: (n: string) => iam().send(new ListAttachedRolePoliciesCommand({ RoleName: n })),
    attach: (n: string, a: string) => iam().send(new AttachRolePolicyCommand({ RoleName: n, PolicyArn: a })),
    detach: (n: string, a: string) => iam().send(new DetachRolePolicyCommand({ RoleName: n, PolicyArn: a })),
  },
};

function AttachedPolicies({ kind, name }: { kind: Kind; name: string }) {
  const ops = ATTACHED[kind];
  const list = useAsync(() => ops.list(name), [kind, name]);
  const all = useAsync(() => iam().send(new ListPoliciesCommand({ MaxItems: 1000 })), []);
  const [arn, setArn] = useState('');
  const action = useAction();
  return (
    <section class="card" aria-labelledby={`attached-${kind}`}>
      <h3 id={`attached-${kind}`}>Managed policies</h3>
      <Loading state={list}>
        {() => (
          <ul>
            {(list.data!.AttachedPolicies ?? []).map((p) => (
              <li key={p.PolicyArn}>
                <a href={href(['iam', 'policies'], { arn: p.PolicyArn })}>{p.PolicyName}</a>{' '}
                <Button
                  class="link"
                  onClick={() =>
                    void action.run(async () => {
                      await ops.detach(name, p.PolicyArn!);
                      list.reload();
                    })
                  }
                >
                  Detach
                </Button>
              </li>
            ))}
            {(list.data!.AttachedPolicies ?? []).length === 0 && <li class="muted">None.</li>}
          </ul>
        )}
      </Loading>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          void action.run(async () => {
            await ops.attach(name, arn.trim());
            list.reload();
            setArn('');
          });
        }}
      >
        <TextInput label="Attach policy ARN" value={arn} onInput={setArn} list={`policies-${kind}`} />
        <datalist id={`policies-${kind}`}>
          {(all.data?.Policies ?? []).map((p) => (
            <option key={p.Arn} value={p.Arn} />
          ))}
        </datalist>
        <button type="submit">Attach</button>
      </form>
      <Outcome action={action} />
    </section>
  );
}

function DeleteEntity({ kind, name }: { kind: Kind; name: string }) {
  const [sure, setSure] = useState(false);
  const action = useAction();
  const del = () =>
    action.run(async () => {
      if (kind === 'user') await iam().send(new DeleteUserCommand({ UserName: name }));
      if (kind === 'group') await iam().send(new DeleteGroupCommand({ GroupName: name }));
      if (kind === 'role') await iam().send(new DeleteRoleCommand({ RoleName: name }));
      navigate(['iam', `${kind}s`]);
    });
  return (
    <section class="card">
      {sure ? (
        <div class="row">
          <Button class="danger" busy={action.busy} onClick={() => void del()}>
            Delete {kind} {name}
          </Button>
          <Button onClick={() => setSure(false)}>Cancel</Button>
        </div>
      ) : (
        <Button onClick={() => setSure(true)}>Delete {kind}…</Button>
      )}
      {action.error !== undefined && <ErrorBox error={action.error} />}
    </section>
  );
}

// ---------------------------------------------------------------------------------- policies

function Policies({ selected }: { selected: string | undefined }) {
  const list = useAsync(() => iam().send(new ListPoliciesCommand({ MaxItems: 1000 })), []);
  const [name, setName] = useState('');
  const [text, setText] = useState('');
  const action = useAction();
  return (
    <>
      <details class="card">
        <summary>Create a managed policy</summary>
        <TextInput label="Policy name" value={name} onInput={setName} />
        <JsonEditor label="Policy document" value={text} onInput={setText} check={(t) => checkPolicy(t, 'identity')} serverError={action.error} rows={12} />
        <Button
          class="primary"
          busy={action.busy}
          onClick={() =>
            void action.run(async () => {
              const out = await iam().send(new CreatePolicyCommand({ PolicyName: name.trim(), PolicyDocument: text }));
              list.reload();
              return `Created ${out.Policy!.Arn}`;
            })
          }
        >
          Create policy
        </Button>
        {action.done && <p class="ok">{action.done}</p>}
      </details>
      <Loading state={list}>
        {() => (
          <Table label="Managed policies">
            <thead>
              <tr>
                <th scope="col">Policy</th>
                <th scope="col">ARN</th>
                <th scope="col">Attachments</th>
                <th scope="col">Default version</th>
              </tr>
            </thead>
            <tbody>
              {(list.data!.Policies ?? []).map((p) => (
                <tr key={p.Arn} class={p.Arn === selected ? 'selected' : ''}>
                  <td>
                    <a href={href(['iam', 'policies'], { arn: p.Arn })}>{p.PolicyName}</a>
                  </td>
                  <td class="mono small">{p.Arn}</td>
                  <td>{p.AttachmentCount ?? 0}</td>
                  <td>{p.DefaultVersionId}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </Loading>
      {selected && <PolicyDocument key={selected} arn={selected} onDeleted={list.reload} />}
    </>
  );
}

function PolicyDocument({ arn, onDeleted }: { arn: string; onDeleted: () => void }) {
  const version = useAsync(async () => {
    const p = await iam().send(new GetPolicyCommand({ PolicyArn: arn }));
    const v = await iam().send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: p.Policy!.DefaultVersionId! }));
    return { policy: p.Policy!, document: doc(v.PolicyVersion?.Document) };
  }, [arn]);
  const action = useAction();
  return (
    <section class="card" aria-label={`Policy ${arn}`}>
      <Loading state={version}>
        {() => (
          <>
            <h2>{version.data!.policy.PolicyName}</h2>
            <pre class="code">{version.data!.document}</pre>
            {!arn.startsWith('arn:aws:iam::aws:') && (
              <Button
                onClick={() =>
                  void action.run(async () => {
                    await iam().send(new DeletePolicyCommand({ PolicyArn: arn }));
                    onDeleted();
                    navigate(['iam', 'policies']);
                  })
                }
              >
                Delete policy
              </Button>
            )}
            <Outcome action={action} />
          </>
        )}
      </Loading>
    </section>
  );
}

// --------------------------------------------------------------------------------- simulator

interface SimResult {
  decision: { outcome: 'Allow' | 'ExplicitDeny' | 'ImplicitDeny' };
  text: string;
}

function Simulator({ query }: { query: URLSearchParams }) {
  const session = useSession();
  const [principal, setPrincipal] = useState(query.get('principal') ?? session.arn);
  const [action, setAction] = useState(query.get('action') ?? 's3:GetObject');
  const [resource, setResource] = useState(query.get('resource') ?? '');
  const [context, setContext] = useState('');
  const [insecure, setInsecure] = useState(false);
  const [result, setResult] = useState<SimResult | undefined>(undefined);
  const run = useAction();
  const principals = useAsync(async () => {
    const [u, r] = await Promise.all([iam().send(new ListUsersCommand({ MaxItems: 1000 })), iam().send(new ListRolesCommand({ MaxItems: 1000 }))]);
    return [...(u.Users ?? []).map((x) => x.Arn!), ...(r.Roles ?? []).map((x) => x.Arn!)];
  }, []);
  return (
    <section class="card" aria-labelledby="sim">
      <h2 id="sim">Policy simulator</h2>
      <p class="muted">Evaluates a request against the stored policies exactly as Meridian would (identity, resource, key and trust policies, boundaries), and says which statement decided it and which conditions failed.</p>
      <form
        aria-label="Policy simulator"
        onSubmit={(e) => {
          e.preventDefault();
          setResult(undefined);
          void run.run(async () => {
            const lines = context.split('\n').map((l) => l.trim()).filter(Boolean);
            setResult(await adminJson<SimResult>('/_meridian/explain', { principal: principal.trim(), action: action.trim(), resource: resource.trim(), context: lines, insecure: insecure ? 'true' : undefined }));
          });
        }}
      >
        <div class="grid">
          <TextInput label="Principal" value={principal} onInput={setPrincipal} list="sim-principals" hint="User, role or assumed-role ARN, account id, service principal or anonymous." />
          <datalist id="sim-principals">
            {(principals.data ?? []).map((p) => (
              <option key={p} value={p} />
            ))}
          </datalist>
          <TextInput label="Action" value={action} onInput={setAction} placeholder="s3:GetObject" />
          <TextInput label="Resource" value={resource} onInput={setResource} placeholder="arn:aws:s3:::bucket/key" />
        </div>
        <Field2 label="Context (key=value per line)" value={context} onInput={setContext} />
        <Check label="Plain HTTP (aws:SecureTransport false)" checked={insecure} onChange={setInsecure} />
        <button type="submit" class="primary" disabled={run.busy}>
          Simulate
        </button>
      </form>
      {run.error !== undefined && <ErrorBox error={run.error} />}
      {result && (
        <div class="sim-result" aria-live="polite">
          <p>
            Decision: <span class={`badge ${result.decision.outcome === 'Allow' ? 'status-completed' : 'status-failed'}`}>{result.decision.outcome}</span>
          </p>
          <pre class="explain">{result.text}</pre>
        </div>
      )}
    </section>
  );
}

function Field2({ label, value, onInput }: { label: string; value: string; onInput: (v: string) => void }) {
  return (
    <div class="field">
      <label for="sim-context">{label}</label>
      <textarea id="sim-context" class="code" rows={3} value={value} spellcheck={false} placeholder="kms:ViaService=s3.us-east-2.amazonaws.com" onInput={(e) => onInput((e.currentTarget as HTMLTextAreaElement).value)} />
    </div>
  );
}
