/** Shared pieces: AWS errors (with "why?" for denials), async state, form fields, JSON editors. */
import type { ComponentChildren, JSX } from 'preact';
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useId, useRef, useState } from 'preact/hooks';
import { awsError, type AwsError } from './aws';
import type { JsonProblem } from './lib/json-check';
import type { Session } from './session';

export const SessionContext = createContext<Session | undefined>(undefined);
export const useSession = (): Session => useContext(SessionContext)!;

export interface AsyncState<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when deps change (and on reload()); the latest call wins. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): AsyncState<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  useEffect(() => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => mine === seq.current && setState({ data, error: undefined, loading: false }),
      (error: unknown) => mine === seq.current && setState({ data: undefined, error, loading: false }),
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** A button-triggered operation: busy while running, its error or success message shown by <Outcome>. */
export function useAction(): {
  busy: boolean;
  error: unknown;
  done: string | undefined;
  run: (what: () => Promise<string | void>) => Promise<boolean>;
  clear: () => void;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const run = useCallback(async (what: () => Promise<string | void>) => {
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    try {
      const msg = await what();
      setDone(msg || undefined);
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, done, run, clear: () => (setError(undefined), setDone(undefined)) };
}

export function Outcome({ action }: { action: { error: unknown; done: string | undefined } }) {
  return (
    <>
      {action.error !== undefined && <ErrorBox error={action.error} />}
      {action.done && (
        <p class="ok" role="status">
          {action.done}
        </p>
      )}
    </>
  );
}

const DENIAL = /is not authorized to perform: (\S+) on resource: (\S+?)(?: because|$| with)/;
const PRINCIPAL = /^User: (\S+) is not authorized/;

/** AWS's error as AWS wrote it; for an authorization denial, a button that asks the policy simulator why. */
export function ErrorBox({ error, title }: { error: unknown; title?: string }) {
  const e: AwsError = awsError(error);
  const denial = DENIAL.exec(e.message);
  const principal = PRINCIPAL.exec(e.message)?.[1];
  const [why, setWhy] = useState<{ text?: string; error?: unknown } | undefined>(undefined);
  const ask = async () => {
    try {
      const { adminJson } = await import('./admin');
      const r = await adminJson<{ text: string }>('/_meridian/explain', { principal, action: denial![1], resource: denial![2] });
      setWhy({ text: r.text });
    } catch (err) {
      setWhy({ error: err });
    }
  };
  return (
    <div class="error" role="alert">
      <p>
        <strong>{title ?? e.code}</strong>
        {e.status !== undefined && <span class="muted"> (HTTP {e.status})</span>}
        {title && <span> {e.code}</span>}
      </p>
      <p class="error-message">{e.message}</p>
      {e.requestId && <p class="muted small">Request id {e.requestId}</p>}
      {denial && principal && !why && (
        <button type="button" class="link" onClick={() => void ask()}>
          Why was this denied?
        </button>
      )}
      {why?.text && (
        <pre class="explain" aria-label="Policy evaluation">
          {why.text}
        </pre>
      )}
      {why?.error !== undefined && (
        <p class="small">
          The policy simulator could not answer: <code>{awsError(why.error).code}</code> {awsError(why.error).message}
        </p>
      )}
    </div>
  );
}

export function Loading({ state, children }: { state: AsyncState<unknown>; children: () => ComponentChildren }) {
  if (state.error !== undefined) return <ErrorBox error={state.error} />;
  if (state.data === undefined) return <p class="muted" role="status">Loading…</p>;
  return <>{children()}</>;
}

export function Field({ label, hint, children }: { label: string; hint?: string; children: (id: string) => ComponentChildren }) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children(id)}
      {hint && <span class="hint">{hint}</span>}
    </div>
  );
}

export function TextInput(props: { label: string; value: string; onInput: (v: string) => void; hint?: string; placeholder?: string; required?: boolean; type?: string; list?: string; autocomplete?: string }) {
  return (
    <Field label={props.label} {...(props.hint ? { hint: props.hint } : {})}>
      {(id) => (
        <input
          id={id}
          type={props.type ?? 'text'}
          value={props.value}
          placeholder={props.placeholder}
          required={props.required}
          list={props.list}
          autocomplete={props.autocomplete ?? 'off'}
          spellcheck={false}
          onInput={(e) => props.onInput((e.currentTarget as HTMLInputElement).value)}
        />
      )}
    </Field>
  );
}

export function Select(props: { label: string; value: string; onChange: (v: string) => void; options: (string | [string, string])[] }) {
  return (
    <Field label={props.label}>
      {(id) => (
        <select id={id} value={props.value} onChange={(e) => props.onChange((e.currentTarget as HTMLSelectElement).value)}>
          {props.options.map((o) => {
            const [value, text] = typeof o === 'string' ? [o, o] : o;
            return (
              <option key={value} value={value}>
                {text}
              </option>
            );
          })}
        </select>
      )}
    </Field>
  );
}

export function Check(props: { label: string; checked: boolean; onChange: (v: boolean) => void }) {
  const id = useId();
  return (
    <div class="check">
      <input id={id} type="checkbox" checked={props.checked} onChange={(e) => props.onChange((e.currentTarget as HTMLInputElement).checked)} />
      <label for={id}>{props.label}</label>
    </div>
  );
}

/** A JSON document editor; `check` runs as the user types and its problem is shown under the field. */
export function JsonEditor(props: { label: string; value: string; onInput: (v: string) => void; check?: (text: string) => JsonProblem | undefined; rows?: number; serverError?: unknown }) {
  const id = useId();
  const problem = props.check?.(props.value);
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <textarea
        id={id}
        class="code"
        rows={props.rows ?? 12}
        value={props.value}
        spellcheck={false}
        aria-invalid={problem ? 'true' : 'false'}
        aria-describedby={problem ? `${id}-problem` : undefined}
        onInput={(e) => props.onInput((e.currentTarget as HTMLTextAreaElement).value)}
      />
      {problem && (
        <p id={`${id}-problem`} class="field-error" role="alert">
          {problem.line !== undefined && `Line ${problem.line}, column ${problem.column}: `}
          {problem.message}
        </p>
      )}
      {props.serverError !== undefined && <ErrorBox error={props.serverError} />}
    </div>
  );
}

export function Table({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={label} tabIndex={0}>
      <table>{children}</table>
    </div>
  );
}

export function Button(props: JSX.ButtonHTMLAttributes<HTMLButtonElement> & { busy?: boolean }) {
  const { busy, children, ...rest } = props;
  return (
    <button type="button" {...rest} disabled={busy || props.disabled} aria-busy={busy ? 'true' : undefined}>
      {children}
    </button>
  );
}

export const pretty = (v: unknown): string => JSON.stringify(v, null, 2);
