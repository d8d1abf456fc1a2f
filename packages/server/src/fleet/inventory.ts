import { createHash } from 'node:crypto';
import type { ComfyClient } from '../backends/comfy-client';
import { comboOptions, type ObjectInfo } from './object-info';

export interface DeviceInfo {
  name: string;
  type: string;
  vram_total: number | null;
  vram_free: number | null;
}

/** What one backend can run, as last read from it. */
export interface BackendInventory {
  readAt: string;
  nodes: ObjectInfo;
  /** `/system_stats` → `system` (versions, RAM), as the backend gave it. */
  system: Record<string, unknown>;
  devices: DeviceInfo[];
  /** Model folder → file names (`/models`, `/models/<folder>`). */
  models: Record<string, string[]>;
  /** `class\0input` → models folder, for every combo whose options are files of a models folder. */
  modelInputs: Map<string, string>;
  /** Changes whenever anything above (but the time) changes. */
  fingerprint: string;
}

export const modelInputKey = (classType: string, input: string): string => `${classType}\0${input}`;

const numberOrNull = (value: unknown): number | null => (typeof value === 'number' ? value : null);

function devicesOf(stats: Record<string, unknown> | undefined): DeviceInfo[] {
  const devices = Array.isArray(stats?.devices) ? stats.devices : [];
  return devices.map((device: Record<string, unknown>) => ({
    name: String(device.name ?? ''),
    type: String(device.type ?? ''),
    vram_total: numberOrNull(device.vram_total),
    vram_free: numberOrNull(device.vram_free),
  }));
}

async function readModels(client: ComfyClient): Promise<Record<string, string[]>> {
  const folders = (await client.getJson<unknown>('/models')) ?? [];
  if (!Array.isArray(folders)) return {};
  const names = folders.filter((folder): folder is string => typeof folder === 'string');
  const lists = await Promise.all(
    names.map((folder) => client.getJson<unknown>(`/models/${encodeURIComponent(folder)}`)),
  );
  const models: Record<string, string[]> = {};
  names.forEach((folder, index) => {
    const list = lists[index];
    models[folder] = Array.isArray(list) ? list.filter((file) => typeof file === 'string') : [];
  });
  return models;
}

/**
 * Which combo inputs pick a model: those whose options are all files of one models folder (ComfyUI fills
 * `ckpt_name`, `lora_name`, `vae_name`, … from exactly those lists). Found from the data, so a custom
 * loader is recognised as well as a core one.
 */
export function findModelInputs(nodes: ObjectInfo, models: Record<string, string[]>): Map<string, string> {
  const folderOfFile = new Map<string, string[]>();
  for (const [folder, files] of Object.entries(models))
    for (const file of files) folderOfFile.set(file, [...(folderOfFile.get(file) ?? []), folder]);
  const found = new Map<string, string>();
  for (const [classType, info] of Object.entries(nodes)) {
    for (const section of [info.input?.required, info.input?.optional]) {
      for (const [input, spec] of Object.entries(section ?? {})) {
        const options = Array.isArray(spec) ? comboOptions(spec) : null;
        if (!options || options.length === 0) continue;
        const folder = commonFolder(options, folderOfFile);
        if (folder) found.set(modelInputKey(classType, input), folder);
      }
    }
  }
  return found;
}

/** The one folder holding every option, preferring the first listed when several do. */
function commonFolder(options: unknown[], folderOfFile: Map<string, string[]>): string | undefined {
  let candidates: string[] | undefined;
  for (const option of options) {
    const folders = typeof option === 'string' ? folderOfFile.get(option) : undefined;
    if (!folders) return undefined;
    candidates = candidates ? candidates.filter((folder) => folders.includes(folder)) : folders;
    if (candidates.length === 0) return undefined;
  }
  return candidates?.[0];
}

/** Reads a backend's nodes, devices and models; throws when `/object_info` cannot be read. */
export async function readInventory(client: ComfyClient): Promise<BackendInventory> {
  const [nodes, stats, models] = await Promise.all([
    client.getJson<ObjectInfo>('/object_info'),
    client.getJson<Record<string, unknown>>('/system_stats').catch(() => undefined),
    readModels(client).catch(() => ({})),
  ]);
  if (!nodes || typeof nodes !== 'object') throw new Error('GET /object_info gave no node list');
  const system = (stats?.system as Record<string, unknown> | undefined) ?? {};
  const devices = devicesOf(stats);
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([nodes, models, devices.map((device) => [device.name, device.type])]))
    .digest('base64url');
  return {
    readAt: new Date().toISOString(),
    nodes,
    system,
    devices,
    models,
    modelInputs: findModelInputs(nodes, models),
    fingerprint,
  };
}
