/**
 * Passes an upstream body through, but ends it quietly when the caller has gone away: aborting the
 * upstream fetch errors its body, which servers (e.g. @hono/node-server) would log as a failure on
 * every closed event stream. Genuine upstream failures still error the stream. `onEnd` runs once,
 * however the body ends (finished, cancelled, failed).
 */
export function passBody(
  body: ReadableStream<Uint8Array>,
  signal: AbortSignal,
  onEnd: () => void = () => {},
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          onEnd();
          controller.close();
        } else controller.enqueue(value);
      } catch (error) {
        onEnd();
        if (signal.aborted) controller.close();
        else controller.error(error);
      }
    },
    cancel(reason) {
      onEnd();
      return reader.cancel(reason);
    },
  });
}
