import type { Backend } from '../backends/backend-pool';
import type { Fleet } from './fleet';

/** The inventory fields `GET /api/v1/comfy/health` adds to each container. */
export function healthFields(fleet: Fleet, backend: Backend): Record<string, unknown> {
  const inventory = fleet.inventoryOf(backend.id);
  const error = fleet.errorOf(backend.id);
  return {
    inventory_read_at: inventory?.readAt ?? null,
    ...(error ? { inventory_error: error.message } : {}),
    node_count: inventory ? Object.keys(inventory.nodes).length : null,
    models: inventory
      ? Object.fromEntries(Object.entries(inventory.models).map(([folder, files]) => [folder, files.length]))
      : null,
    devices: inventory?.devices ?? null,
  };
}

/** `GET /api/v1/admin/fleet`: everything known of one backend (node classes by name, not their specs). */
export function adminView(fleet: Fleet, backend: Backend, status: string): Record<string, unknown> {
  const inventory = fleet.inventoryOf(backend.id);
  const error = fleet.errorOf(backend.id);
  const nodes = inventory ? Object.keys(inventory.nodes).sort() : [];
  return {
    container: backend.name,
    url: backend.url,
    status,
    read_at: inventory?.readAt ?? null,
    error: error ? { message: error.message, at: error.at } : null,
    system: inventory?.system ?? null,
    devices: inventory?.devices ?? [],
    node_classes: nodes,
    output_nodes: nodes.filter((name) => inventory?.nodes[name]?.output_node === true),
    models: inventory?.models ?? {},
    model_inputs: inventory
      ? [...inventory.modelInputs].map(([key, folder]) => {
          const [classType, input] = key.split('\0');
          return { class_type: classType, input, folder };
        })
      : [],
  };
}
