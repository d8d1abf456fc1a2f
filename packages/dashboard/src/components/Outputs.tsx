import type { RunOutput } from '@flowscale/react';
import { useEffect, useState } from 'react';
import { bytes } from '../format';
import { CopyButton } from './bits';

type Kind = 'image' | 'video' | 'audio' | 'text' | 'file';

const EXTENSIONS: Array<[Kind, string[]]> = [
  ['image', ['png', 'jpg', 'jpeg', 'gif', 'webp', 'avif', 'apng']],
  ['video', ['mp4', 'webm', 'mov', 'mkv', 'avi']],
  ['audio', ['mp3', 'wav', 'ogg', 'flac', 'm4a', 'opus']],
  ['text', ['txt', 'json', 'md', 'csv']],
];

/** By content type first, by file extension when the server gave none. */
export const kindOf = (output: RunOutput): Kind => {
  const type = output.contentType ?? '';
  for (const kind of ['image', 'video', 'audio'] as const) if (type.startsWith(`${kind}/`)) return kind;
  if (output.text !== undefined || type.startsWith('text/') || type === 'application/json') return 'text';
  const ext = output.filename.split('.').pop()?.toLowerCase() ?? '';
  return EXTENSIONS.find(([, list]) => list.includes(ext))?.[0] ?? 'file';
};

/** Text shown inline is capped: a huge log belongs in its download. */
const TEXT_LIMIT = 200_000;

/** A text output's content: the live event's, or read from its download URL (a file written by a node). */
function useOutputText(output: RunOutput, kind: Kind): string | null | undefined {
  const [fetched, setFetched] = useState<string | null | undefined>(undefined);
  const { url, text } = output;
  useEffect(() => {
    if (kind !== 'text' || text !== undefined || !url) return;
    let live = true;
    fetch(url)
      .then((response) => (response.ok ? response.text() : Promise.reject(new Error(`${response.status}`))))
      .then(
        (body) => live && setFetched(body.slice(0, TEXT_LIMIT)),
        () => live && setFetched(null),
      );
    return () => {
      live = false;
    };
  }, [kind, text, url]);
  return text ?? fetched;
}

/** A player, or a note when this browser cannot decode the format (an MJPEG AVI, say): download it. */
function Player({ kind, output }: { kind: 'video' | 'audio'; output: RunOutput }) {
  const [unplayable, setUnplayable] = useState(false);
  const Media = kind;
  return (
    <>
      <Media src={output.url} controls preload="metadata" onError={() => setUnplayable(true)} />
      {unplayable && (
        <p className="hint unplayable" data-testid="unplayable">
          This browser cannot play {output.contentType ?? 'this format'}; download it instead.
        </p>
      )}
    </>
  );
}

function Output({ output }: { output: RunOutput }) {
  const kind = kindOf(output);
  const text = useOutputText(output, kind);
  return (
    <li className={`output output-${kind}`} data-testid="output" data-kind={kind}>
      <div className="media">
        {!output.url && text === undefined && <p className="loading">Fetching…</p>}
        {kind === 'image' && output.url && (
          <a href={output.url} target="_blank" rel="noreferrer noopener">
            <img src={output.url} alt={`Output ${output.filename}`} loading="lazy" />
          </a>
        )}
        {(kind === 'video' || kind === 'audio') && output.url && <Player kind={kind} output={output} />}
        {kind === 'text' && typeof text === 'string' && <pre className="text-output">{text}</pre>}
        {kind === 'file' && <p className="hint unplayable">No preview for this file.</p>}
      </div>
      <div className="output-meta">
        <span className="clip mono" title={output.filename}>
          {output.filename}
        </span>
        <span className="num">{bytes(output.size)}</span>
        {kind === 'text' && typeof text === 'string' && <CopyButton text={text} />}
        {output.url && (
          <a className="button small secondary" href={output.url} download={output.filename}>
            Download<span className="visually-hidden"> {output.filename}</span>
          </a>
        )}
      </div>
    </li>
  );
}

/** Images (animated ones too), players for video and audio, text with a copy button; a download for each. */
export function OutputGallery({ outputs, pending }: { outputs: RunOutput[]; pending: boolean }) {
  if (outputs.length === 0) {
    return <p className="empty">{pending ? 'Outputs appear here as they are ready.' : 'No outputs.'}</p>;
  }
  return (
    <ul className="gallery">
      {outputs.map((output) => (
        <Output key={output.name} output={output} />
      ))}
    </ul>
  );
}
