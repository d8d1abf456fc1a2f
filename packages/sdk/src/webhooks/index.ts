// `flowscale/webhooks`: check webhooks a FlowScale server sends, in Node, browsers and edge runtimes (Web
// Crypto), and their wire types. Its own entry, so the core bundle does not carry it.
export type * from './types';
export {
  type VerifyWebhookOptions,
  verifyWebhook,
  type WebhookHeaders,
  WebhookVerificationError,
} from './verify';
