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
  ExecuteWorkflowOptions,
  FetchLike,
  FlowscaleConfig,
  RequestOptions,
  WebSocketConstructor,
  WebSocketLike,
} from './core/options';
// Types only: the runtime values of the contract (the terminal sets) are on `flowscale/events`.
export type {
  NodeExecutingEvent,
  NodeProgressEvent,
  OutputReadyEvent,
  RunCancelledEvent,
  RunCompletedEvent,
  RunError,
  RunEvent,
  RunEventOutput,
  RunEventType,
  RunFailedEvent,
  RunQueuedEvent,
  RunStartedEvent,
  RunStatus,
  TerminalEventType,
  TerminalRunEvent,
  TerminalStatus,
} from './events/types';
export type { ConnectWebSocketOptions, WebSocketMessage } from './realtime/websocket';
export type { RunEventSubscription, SubscribeRunEventsOptions } from './runs/subscribe';
export type { AsyncUpdate, ExecuteWorkflowAsyncOptions } from './runs/wait';
export type * from './types/api';
export type { OutputType, WorkflowDefinition, WorkflowInputsOf, WorkflowRegistry } from './types/registry';
export type { UploadProgress, UploadProgressHandler } from './uploads/progress';
export type { InputValue, NodeReadableLike, Uploadable, WorkflowInput } from './uploads/uploadable';
