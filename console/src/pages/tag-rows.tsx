/** An editable list of tags (key/value rows), for buckets and object versions. */
import { Button } from '../ui';

export interface Tag {
  Key: string;
  Value: string;
}

export function TagRows({ tags, onChange, label }: { tags: Tag[]; onChange: (t: Tag[]) => void; label: string }) {
  const set = (i: number, patch: Partial<Tag>) => onChange(tags.map((t, j) => (j === i ? { ...t, ...patch } : t)));
  return (
    <fieldset class="tags">
      <legend>{label}</legend>
      {tags.length === 0 && <p class="muted small">No tags.</p>}
      {tags.map((t, i) => (
        <div class="row" key={i}>
          <input aria-label={`Tag ${i + 1} key`} placeholder="Key" value={t.Key} onInput={(e) => set(i, { Key: (e.currentTarget as HTMLInputElement).value })} />
          <input aria-label={`Tag ${i + 1} value`} placeholder="Value" value={t.Value} onInput={(e) => set(i, { Value: (e.currentTarget as HTMLInputElement).value })} />
          <Button class="link" aria-label={`Remove tag ${i + 1}`} onClick={() => onChange(tags.filter((_, j) => j !== i))}>
            Remove
          </Button>
        </div>
      ))}
      <Button onClick={() => onChange([...tags, { Key: '', Value: '' }])}>Add tag</Button>
    </fieldset>
  );
}
