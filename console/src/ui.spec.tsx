/** @vitest-environment happy-dom */
import { describe, expect, it, vi } from 'vitest';
import { render } from 'preact';
import { act } from 'preact/test-utils';
import { useState } from 'preact/hooks';
import { ErrorBox, JsonEditor } from './ui';
import { checkPolicy } from './lib/json-check';

vi.mock('./admin', () => ({
  adminJson: vi.fn(async (_path: string, q: Record<string, string>) => ({ text: `DENY (implicit): ${q.principal} ${q.action} ${q.resource}` })),
}));

function mount(node: preact.ComponentChild): HTMLElement {
  const root = document.createElement('div');
  document.body.appendChild(root);
  act(() => render(node, root));
  return root;
}

describe('ErrorBox', () => {
  it("shows AWS's code, status, message and request id", () => {
    const e = Object.assign(new Error('The specified bucket does not exist'), { name: 'NoSuchBucket', $metadata: { httpStatusCode: 404, requestId: 'RID1' } });
    const root = mount(<ErrorBox error={e} />);
    expect(root.textContent).toContain('NoSuchBucket');
    expect(root.textContent).toContain('(HTTP 404)');
    expect(root.textContent).toContain('The specified bucket does not exist');
    expect(root.textContent).toContain('Request id RID1');
    expect(root.querySelector('button')).toBeNull();
  });

  it('offers "why?" for a denial and shows the policy evaluation for its principal, action and resource', async () => {
    const message = 'User: arn:aws:iam::000000000000:user/viewer is not authorized to perform: s3:CreateBucket on resource: arn:aws:s3:::b1 because no identity-based policy allows the s3:CreateBucket action';
    const root = mount(<ErrorBox error={Object.assign(new Error(message), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } })} />);
    const button = root.querySelector('button')!;
    expect(button.textContent).toBe('Why was this denied?');
    await act(async () => button.click());
    await act(async () => new Promise((r) => setTimeout(r, 0)));
    expect(root.querySelector('pre')!.textContent).toBe('DENY (implicit): arn:aws:iam::000000000000:user/viewer s3:CreateBucket arn:aws:s3:::b1');
  });
});

describe('JsonEditor', () => {
  function Editor() {
    const [text, setText] = useState('{}');
    return <JsonEditor label="Policy" value={text} onInput={setText} check={(t) => checkPolicy(t, 'identity')} />;
  }

  it('marks the field invalid and says why, in place, as the user types', () => {
    const root = mount(<Editor />);
    const area = root.querySelector('textarea')!;
    const label = root.querySelector('label')!;
    expect(label.getAttribute('for')).toBe(area.id);
    act(() => {
      area.value = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]}';
      area.dispatchEvent(new Event('input', { bubbles: true }));
    });
    expect(area.getAttribute('aria-invalid')).toBe('true');
    const problem = root.querySelector('[role=alert]')!;
    expect(problem.textContent).toBe('Policy statement must contain resources.');
    expect(area.getAttribute('aria-describedby')).toBe(problem.id);
    act(() => {
      area.value = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}';
      area.dispatchEvent(new Event('input', { bubbles: true }));
    });
    expect(area.getAttribute('aria-invalid')).toBe('false');
    expect(root.querySelector('[role=alert]')).toBeNull();
  });
});
