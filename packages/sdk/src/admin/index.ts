// The self-hosted server's admin API (workflow deployment, API keys). FlowScale's hosted SDK has no such
// methods, and browser apps never need them, so they live behind their own entry: `flowscale/admin`.
import { FlowscaleAPI } from '../client';
import type { RequestOptions } from '../core/options';
import type {
  ApiKeyRecord,
  ApiResponse,
  CreatedApiKey,
  DeployWorkflowBody,
  WorkflowDetail,
} from '../types/api';
import type { WorkflowRegistry } from '../types/registry';

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
  createApiKey(
    body: { name: string; role?: 'admin' | 'user' },
    options?: RequestOptions,
  ): Promise<ApiResponse<CreatedApiKey>> {
    return this.call('POST', 'admin/keys', options, json(body));
  }

  /** Revokes an API key. */
  revokeApiKey(id: string, options?: RequestOptions): Promise<ApiResponse<unknown>> {
    return this.call('DELETE', `admin/keys/${enc(id)}`, options);
  }
}
