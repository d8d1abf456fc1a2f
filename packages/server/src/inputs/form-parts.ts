import type { Readable } from 'node:stream';

/**
 * One part of a multipart/form-data body, as the domain sees it: no HTTP framework types. The route adapts
 * its parser's parts to these; iteration errors from the parser are passed through unchanged.
 */
export type FormPart =
  | {
      kind: 'field';
      fieldname: string;
      value: string;
      /** The value was cut at the field size limit. */
      truncated: boolean;
    }
  | {
      kind: 'file';
      fieldname: string;
      filename: string;
      mimetype: string;
      stream: Readable;
      /** Read once the stream ended: it was cut at the parser's file size limit. */
      truncated(): boolean;
    };

/** A request without a body: every input takes its default. */
export const noParts: AsyncIterable<FormPart> = {
  async *[Symbol.asyncIterator]() {},
};
