import { type DragEvent, useId, useState } from 'react';

/** A file input that also takes a dropped file; keyboard users get the ordinary file picker. */
export function DropZone({
  label,
  name,
  accept,
  hint,
  file,
  onFile,
}: {
  label: string;
  name: string;
  accept?: string;
  hint?: string;
  file: File | null;
  onFile: (file: File | null) => void;
}) {
  const id = useId();
  const [over, setOver] = useState(false);
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    const dropped = event.dataTransfer.files[0];
    if (dropped) onFile(dropped);
  };
  return (
    // Dropping is a shortcut; the file input inside is the way for keyboards and screen readers.
    <fieldset
      className={`dropzone${over ? ' over' : ''}`}
      onDragOver={(event) => {
        event.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
      data-testid={`drop-${name}`}
    >
      <legend id={`${id}-label`}>{label}</legend>
      <input
        id={id}
        name={name}
        type="file"
        accept={accept}
        aria-labelledby={`${id}-label`}
        aria-describedby={`${id}-hint`}
        onChange={(event) => onFile(event.target.files?.[0] ?? null)}
      />
      <p id={`${id}-hint`} className="hint">
        {file ? `${file.name} (${file.size} bytes)` : (hint ?? 'Drop a file here or choose one.')}
      </p>
    </fieldset>
  );
}
