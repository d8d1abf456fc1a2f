import { readFileSync } from 'node:fs';
import { describe as describeMessage, fixturePath, type WsMessage } from './helpers';

export interface HttpRecord {
  kind: 'http';
  method: string;
  path: string;
  req: unknown;
  status: number;
  resp: unknown;
  content_type?: string;
  note?: string;
}

export interface WsRecord {
  kind: 'ws';
  ws: string;
  msg: WsMessage;
}

export type TranscriptRecord = HttpRecord | WsRecord | { kind: 'note'; text: string };

export function loadTranscript(name: string): TranscriptRecord[] {
  return JSON.parse(readFileSync(fixturePath(name), 'utf8')) as TranscriptRecord[];
}

export function httpRecords(records: TranscriptRecord[], method: string, path: string): HttpRecord[] {
  return records.filter((r): r is HttpRecord => r.kind === 'http' && r.method === method && r.path === path);
}

/** What one socket received in the capture, described the same way as our own messages. */
export function socketSequence(
  records: TranscriptRecord[],
  socket: string,
  withProgressState = false,
): string[] {
  return records
    .filter((r): r is WsRecord => r.kind === 'ws' && r.ws === socket)
    .filter((r) => withProgressState || r.msg.type !== 'progress_state')
    .filter((r) => !(r.msg.type === 'status' && 'sid' in r.msg.data))
    .map((r) => describeMessage(r.msg));
}
