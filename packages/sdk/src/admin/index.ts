// The self-hosted server's admin API (workflow deployment, API keys). FlowScale's hosted SDK has no such
// methods, and browser apps never need them, so they live behind their own entry: `flowscale/admin`.
import { FlowscaleAPI } from '../client';
import type { RequestOptions } from '../core/options';
import type {
  ApiKeyRecord,
  ApiResponse,
  AuditRecord,
  CreateApiKeyBody,
  CreatedApiKey,
  DeployWorkflowBody,
  ProjectRecord,
  UsageQuery,
  UsageReport,
  WorkflowDetail,
} from '../types/api';
import type { WorkflowRegistry } from '../types/registry';
import type {
  CreateWebhookBody,
  RunWebhookSecret,
  UpdateWebhookBody,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookEndpointWithSecret,
} from '../webhooks/types';

const enc = encodeURIComponent;
const json = (body: unknown) => ({ body: JSON.stringify(body), contentType: 'application/json' });

/** FlowscaleAPI plus the admin endpoints. Needs an admin API key. */
export class FlowscaleAdminAPI<Registry extends object = WorkflowRegistry> extends FlowscaleAPI<Registry> {
  /** Deploys a workflow, or re-deploys one by name (keeping its id). */
  deployWorkflow(body: DeployWorkflowBody, options?: RequestOptions): Promise<ApiResponse<WorkflowDetail>> {
    return this.call('POST', 'admin/workflows', options, json(body));
  }

  /** Deletes a deployed workflow. */
  deleteWorkflow(id: string, options?: RequestOptions): Promise<ApiResponse<unknown>> {
    return this.call('DELETE', `admin/workflows/${enc(id)}`, options);
  }

  /** Lists API keys (never the keys themselves). */
  listApiKeys(options?: RequestOptions): Promise<ApiResponse<ApiKeyRecord[]>> {
    return this.call('GET', 'admin/keys', options);
  }

  /** Creates an API key. The response carries the plaintext key, shown only this once. */
  createApiKey(body: CreateApiKeyBody, options?: RequestOptions): Promise<ApiResponse<CreatedApiKey>> {
    return this.call('POST', 'admin/keys', options, json(body));
  }

  /** Lists projects (tenants). */
  listProjects(options?: RequestOptions): Promise<ApiResponse<ProjectRecord[]>> {
    return this.call('GET', 'admin/projects', options);
  }

  /** Creates a project; keys are then created in it with `createApiKey({ project })`. */
  createProject(body: { name: string }, options?: RequestOptions): Promise<ApiResponse<ProjectRecord>> {
    return this.call('POST', 'admin/projects', options, json(body));
  }

  /** Admin actions (keys, projects, deploys, deletes), newest first. */
  listAuditLog(
    query: { limit?: number; before?: string; action?: string } = {},
    options?: RequestOptions,
  ): Promise<ApiResponse<AuditRecord[]>> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query))
      if (value !== undefined) params.set(name, String(value));
    const search = params.size > 0 ? `?${params}` : '';
    return this.call('GET', `admin/audit${search}`, options);
  }

  /**
   * Usage per project and UTC day (runs by status, execution seconds per backend, bytes in and out). An
   * admin key reads any or every project; another key, its own project only.
   */
  getUsage(query: UsageQuery = {}, options?: RequestOptions): Promise<ApiResponse<UsageReport>> {
    return this.call('GET', 'usage', options, {
      query: { from: query.from, to: query.to, project: query.project },
    });
  }

  /** Revokes an API key. */
  revokeApiKey(id: string, options?: RequestOptions): Promise<ApiResponse<unknown>> {
    return this.call('DELETE', `admin/keys/${enc(id)}`, options);
  }

  /** Webhook subscriptions of a project (`default` unless given), or the endpoint of one run. */
  listWebhooks(
    query: { project?: string; runId?: string } = {},
    options?: RequestOptions,
  ): Promise<ApiResponse<WebhookEndpoint[]>> {
    return this.call('GET', 'admin/webhooks', options, {
      query: { project: query.project, run_id: query.runId },
    });
  }

  /** Subscribes a URL to run events. The response carries the signing secret, shown only this once. */
  createWebhook(
    body: CreateWebhookBody,
    options?: RequestOptions,
  ): Promise<ApiResponse<WebhookEndpointWithSecret>> {
    return this.call('POST', 'admin/webhooks', options, json(body));
  }

  getWebhook(id: string, options?: RequestOptions): Promise<ApiResponse<WebhookEndpoint>> {
    return this.call('GET', `admin/webhooks/${enc(id)}`, options);
  }

  /** Changes the URL, the events or the description; `enabled: true` turns a disabled endpoint back on. */
  updateWebhook(
    id: string,
    body: UpdateWebhookBody,
    options?: RequestOptions,
  ): Promise<ApiResponse<WebhookEndpoint>> {
    return this.call('PATCH', `admin/webhooks/${enc(id)}`, options, json(body));
  }

  deleteWebhook(id: string, options?: RequestOptions): Promise<ApiResponse<unknown>> {
    return this.call('DELETE', `admin/webhooks/${enc(id)}`, options);
  }

  /** A new secret; the old ones keep signing too for `overlapSeconds` (default a day). */
  rotateWebhookSecret(
    id: string,
    body: { overlap_seconds?: number } = {},
    options?: RequestOptions,
  ): Promise<ApiResponse<WebhookEndpointWithSecret>> {
    return this.call('POST', `admin/webhooks/${enc(id)}/rotate-secret`, options, json(body));
  }

  /** The endpoint's newest deliveries, each with every attempt. */
  listWebhookDeliveries(
    id: string,
    query: { limit?: number } = {},
    options?: RequestOptions,
  ): Promise<ApiResponse<WebhookDelivery[]>> {
    return this.call('GET', `admin/webhooks/${enc(id)}/deliveries`, options, {
      query: { limit: query.limit },
    });
  }

  /** Sends a delivery again now, with the same `webhook-id` and body. */
  redeliverWebhook(
    id: string,
    deliveryId: string,
    options?: RequestOptions,
  ): Promise<ApiResponse<WebhookDelivery>> {
    return this.call('POST', `admin/webhooks/${enc(id)}/deliveries/${enc(deliveryId)}/redeliver`, options);
  }

  /** Sends a `webhook.test` event to the endpoint. */
  testWebhook(id: string, options?: RequestOptions): Promise<ApiResponse<WebhookDelivery>> {
    return this.call('POST', `admin/webhooks/${enc(id)}/test`, options);
  }

  /** The project's secret for per-run `webhook_url` deliveries (created on first use). */
  getRunWebhookSecret(
    query: { project?: string } = {},
    options?: RequestOptions,
  ): Promise<ApiResponse<RunWebhookSecret>> {
    return this.call('GET', 'admin/webhooks/run-secret', options, { query: { project: query.project } });
  }

  rotateRunWebhookSecret(
    body: { project?: string; overlap_seconds?: number } = {},
    options?: RequestOptions,
  ): Promise<ApiResponse<RunWebhookSecret>> {
    return this.call('POST', 'admin/webhooks/run-secret/rotate', options, json(body));
  }
}
