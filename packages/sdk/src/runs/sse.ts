// A small SSE decoder (the WHATWG "event stream interpretation"). The eventsource-parser package is not
// used because it publishes a "flowscale-source" export condition pointing at .ts files, which this monorepo's
// `customConditions: ["source"]` would make every package that imports the SDK type-check.

export interface SseMessage {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

/** Feeds text chunks split anywhere; calls `onMessage` for each complete event. */
export function createSseParser(onMessage: (message: SseMessage) => void): (chunk: string) => void {
  let buffer = '';
  let data: string[] = [];
  let event: string | undefined;
  let id: string | undefined;
  const line = (text: string) => {
    if (text === '') {
      if (data.length > 0) onMessage({ id, event, data: data.join('\n') });
      data = [];
      event = undefined;
      return;
    }
    if (text.startsWith(':')) return; // comment, e.g. the server's keep-alive ping
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id' && !value.includes('\0')) id = value;
  };
  return (chunk) => {
    buffer += chunk;
    // A trailing "\r" may be the first half of "\r\n": keep it until the next chunk decides.
    const parts = buffer.split(/\r\n|\r(?!$)|\n/);
    buffer = parts.pop() ?? '';
    for (const part of parts) line(part);
  };
}
