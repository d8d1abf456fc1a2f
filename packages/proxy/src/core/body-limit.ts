export class BodyTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`Request body exceeds ${maxBytes} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * Passes the body through chunk by chunk and fails the stream once it grows past the cap, for bodies
 * whose size was not announced in Content-Length (chunked uploads).
 */
export function limitBody(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  onExceeded: () => void,
): ReadableStream<Uint8Array> {
  let seen = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > maxBytes) {
          onExceeded();
          controller.error(new BodyTooLargeError(maxBytes));
        } else controller.enqueue(chunk);
      },
    }),
  );
}
