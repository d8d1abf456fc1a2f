import type { WorkflowField } from 'flowscale';
import { DropZone } from './DropZone';

/** The server's field plus what manifests may add (alias, label). */
export type Field = WorkflowField & { alias?: string; label?: string };

export const fieldLabel = (field: Field): string => field.label ?? field.alias ?? field.name;

const ACCEPT: Record<string, string> = { image: 'image/*', video: 'video/*', audio: 'audio/*' };

/** One form control generated from an `input_schema` entry. */
export function InputField({
  field,
  value,
  onChange,
}: {
  field: Field;
  value: string | boolean | File | null;
  onChange: (value: string | boolean | File | null) => void;
}) {
  const id = `field-${field.name}`;
  const label = `${fieldLabel(field)}${field.required ? ' (required)' : ''}`;
  const help = [
    field.description,
    `${field.type}${field.default !== undefined ? `, default ${String(field.default)}` : ''}`,
  ]
    .filter(Boolean)
    .join(' · ');
  if (['image', 'video', 'audio', 'file'].includes(field.type)) {
    return (
      <DropZone
        label={label}
        name={field.name}
        accept={ACCEPT[field.type]}
        file={value instanceof File ? value : null}
        onFile={onChange}
        hint={help}
      />
    );
  }
  const common = { id, name: field.name, 'aria-describedby': `${id}-help` };
  let control: React.ReactNode;
  if (field.choices?.length) {
    control = (
      <select {...common} value={String(value ?? '')} onChange={(e) => onChange(e.target.value)}>
        {!field.required && <option value="">(default)</option>}
        {field.choices.map((choice) => (
          <option key={String(choice)} value={String(choice)}>
            {String(choice)}
          </option>
        ))}
      </select>
    );
  } else if (field.type === 'boolean') {
    control = (
      <input
        {...common}
        type="checkbox"
        checked={value === true}
        onChange={(e) => onChange(e.target.checked)}
      />
    );
  } else if (field.type === 'integer' || field.type === 'number') {
    control = (
      <input
        {...common}
        type="number"
        inputMode={field.type === 'integer' ? 'numeric' : 'decimal'}
        step={field.type === 'integer' ? 1 : 'any'}
        min={field.min}
        max={field.max}
        placeholder={field.default !== undefined ? String(field.default) : undefined}
        value={typeof value === 'string' ? value : ''}
        onChange={(e) => onChange(e.target.value)}
        required={field.required}
      />
    );
  } else {
    control = (
      <textarea
        {...common}
        rows={2}
        placeholder={field.default !== undefined ? String(field.default) : undefined}
        value={typeof value === 'string' ? value : ''}
        onChange={(e) => onChange(e.target.value)}
        required={field.required}
      />
    );
  }
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {control}
      <p id={`${id}-help`} className="hint">
        {help}
      </p>
    </div>
  );
}
