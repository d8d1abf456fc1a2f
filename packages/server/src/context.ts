import type { Logger } from 'pino';
import type { AuditLog } from './audit/audit-log';
import type { KeyService } from './auth/key-service';
import type { BackendPool } from './backends/backend-pool';
import type { BlobStore } from './blobs/blob-store';
import type { ServerConfig } from './config/config';
import type { EventBus } from './events/event-bus';
import type { Fleet } from './fleet/fleet';
import type { InputBlobs } from './inputs/input-blobs';
import type { QueueAdmission } from './limits/admission';
import type { RateTaker } from './limits/limits-plugin';
import type { Metrics } from './metrics/metrics';
import type { UrlSigner } from './outputs/signed-urls';
import type { ProjectService } from './projects/project-service';
import type { RunAccess } from './projects/run-access';
import type { RunService } from './runs/run-service';
import type { DownloadUrl } from './runs/run-view';
import type { RunViews } from './runs/run-views';
import type { Stores } from './storage/stores';
import type { Telemetry } from './telemetry/telemetry';
import type { Webhooks } from './webhooks/webhooks';
import type { WorkflowService } from './workflows/workflow-service';

/** The server's parts, built once in startServer and handed to every route plugin. */
export interface AppContext {
  config: ServerConfig;
  log: Logger;
  stores: Stores;
  keys: KeyService;
  projects: ProjectService;
  /** Runs as a key's project sees them. */
  access: RunAccess;
  audit: AuditLog;
  workflows: WorkflowService;
  runs: RunService;
  views: RunViews;
  pool: BackendPool;
  /** What each backend can run (nodes, models, devices). */
  fleet: Fleet;
  bus: EventBus;
  signer: UrlSigner;
  /** The URL a client downloads an output from: ours (signed) or, in S3 presigned mode, the bucket's. */
  downloadUrl: DownloadUrl;
  /** Output file bytes (records: `storage`). */
  outputs: BlobStore;
  /** Input file bytes, by content hash (records: `storage`). */
  inputFiles: InputBlobs;
  metrics: Metrics;
  /** Traces, when an OTLP endpoint is configured. */
  telemetry?: Telemetry;
  admission: QueueAdmission;
  /** With several replicas: the per-key rate limit counted in the shared database. */
  sharedRateLimit?: RateTaker;
  webhooks: Webhooks;
  publicUrl(): string;
}
