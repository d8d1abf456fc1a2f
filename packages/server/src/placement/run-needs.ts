import { checkGraph } from '../fleet/check-graph';
import type { BackendInventory } from '../fleet/inventory';
import type { ComfyGraph } from '../workflows/types';

/** What placement reads of the fleet: each backend's last inventory, and which inputs pick models. */
export interface InventoryView {
  inventoryOf(backendId: string): BackendInventory | undefined;
  modelFolderOf(classType: string, input: string): string | undefined;
}

const NO_API_INPUTS: ReadonlySet<string> = new Set();

/**
 * The model files a run's graph loads, as `folder/file` (e.g. `checkpoints/x.safetensors`): every literal
 * value of an input recognised as a model input (a combo whose options are a models folder's files).
 */
export function modelsOf(graph: ComfyGraph, fleet: InventoryView): string[] {
  const models = new Set<string>();
  for (const node of Object.values(graph)) {
    for (const [input, value] of Object.entries(node.inputs ?? {})) {
      if (typeof value !== 'string') continue;
      const folder = fleet.modelFolderOf(node.class_type, input);
      if (folder) models.add(`${folder}/${value}`);
    }
  }
  return [...models].sort();
}

/**
 * Whether a backend can run the graph, judged as deploys are (its nodes, its models, its inputs'
 * options and ranges). A backend whose inventory is not known yet counts as able, so a fleet read late
 * places runs as it did before inventories existed.
 */
export function canRun(graph: ComfyGraph, backendId: string, fleet: InventoryView): boolean {
  const inventory = fleet.inventoryOf(backendId);
  if (!inventory) return true;
  const options = { modelFolderOf: fleet.modelFolderOf.bind(fleet), apiInputs: NO_API_INPUTS };
  return checkGraph(graph, inventory, options).length === 0;
}
