export { FlowscaleAPI } from './client';
export {
  type ErrorDetail,
  FlowScaleError,
  type FlowScaleErrorOptions,
  NetworkError,
  RunFailedError,
  TimeoutError,
  ValidationError,
} from './core/errors';
export type { LoggingConfig, LogLevel } from './core/logger';
export type {
  FetchLike,
  FlowscaleConfig,
  RequestOptions,
  WebSocketConstructor,
  WebSocketLike,
} from './core/options';
export type { ConnectWebSocketOptions, WebSocketMessage } from './realtime/websocket';
export type { RunEventSubscription, SubscribeRunEventsOptions } from './runs/subscribe';
export type { AsyncUpdate, ExecuteWorkflowAsyncOptions } from './runs/wait';
export type * from './types/api';
export type { OutputType, WorkflowDefinition, WorkflowInputsOf, WorkflowRegistry } from './types/registry';
export type { InputValue, NodeReadableLike, Uploadable, WorkflowInput } from './uploads/uploadable';
