import type { Logger } from 'pino';
import type { KeyService } from './auth/key-service';
import type { BackendPool } from './backends/backend-pool';
import type { ServerConfig } from './config/config';
import type { EventBus } from './events/event-bus';
import type { InputFileStore } from './inputs/file-store';
import type { QueueAdmission } from './limits/admission';
import type { Metrics } from './metrics/metrics';
import type { OutputStorage } from './outputs/output-storage';
import type { UrlSigner } from './outputs/signed-urls';
import type { RunService } from './runs/run-service';
import type { RunViews } from './runs/run-views';
import type { Storage } from './storage/types';
import type { WorkflowService } from './workflows/workflow-service';

/** The server's parts, built once in startServer and handed to every route plugin. */
export interface AppContext {
  config: ServerConfig;
  log: Logger;
  storage: Storage;
  keys: KeyService;
  workflows: WorkflowService;
  runs: RunService;
  views: RunViews;
  pool: BackendPool;
  bus: EventBus;
  signer: UrlSigner;
  outputs: OutputStorage;
  inputFiles: InputFileStore;
  metrics: Metrics;
  admission: QueueAdmission;
  publicUrl(): string;
}
