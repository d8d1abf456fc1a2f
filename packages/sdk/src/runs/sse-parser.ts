/** One Server-Sent Events message; `id` and `event` are undefined when the message did not set them. */
export interface SseMessage {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

// The WHATWG event-stream grammar in ~0.4 KB. eventsource-parser (3.4 KB minified) would be a fifth of
// the SDK's whole browser budget; test/sse-parser.test.ts checks this parser against it on random streams.
// Input is text from a TextDecoder, which has already removed any byte-order mark.

/** Returns `feed(text)`, which returns the messages that `text` completes. */
export function createSseParser(): (text: string) => SseMessage[] {
  let rest = '';
  let data: string | undefined;
  let id: string | undefined;
  let event: string | undefined;
  return (text) => {
    const messages: SseMessage[] = [];
    // A CR at the very end may be the first half of a CRLF, so it stays in `rest` until more text comes.
    const lines = (rest + text).split(/\r\n|\r(?!$)|\n/);
    rest = lines.pop()!;
    for (const line of lines) {
      if (!line) {
        if (data !== undefined) messages.push({ id, event, data });
        data = id = event = undefined;
        continue;
      }
      const colon = line.indexOf(':');
      // A line starting with a colon is a comment (servers send them as keep-alive pings).
      if (colon === 0) continue;
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
      if (field === 'data') data = data === undefined ? value : `${data}\n${value}`;
      else if (field === 'event') event = value || undefined;
      else if (field === 'id' && !value.includes('\0')) id = value;
    }
    return messages;
  };
}
