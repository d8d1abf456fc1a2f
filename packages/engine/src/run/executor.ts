import { ExecutionList } from '../graph/execution-list';
import { isLink, type PromptNode } from '../graph/prompt';
import { computeSignatures, type NodeSignature, neededNodes } from '../graph/signature';
import type { Registry } from '../graph/validate';
import {
  InterruptedError,
  type NodeDefinition,
  type NodeEnv,
  NodeError,
  type NodeResult,
  type RunContext,
  type UiOutput,
} from '../nodes/types';
import { yieldToLoop } from '../tensor/image';
import { describeValue, isImage, isMask } from '../tensor/types';
import type { CachedOutput, OutputCache } from './cache';
import type { EventSink } from './events';
import type { HistoryEntry } from './history';
import { ProgressState } from './progress-state';
import type { QueueItem } from './queue';

export interface ExecutorDeps {
  registry: Registry;
  cache: OutputCache;
  env: NodeEnv;
  events: EventSink;
  isInterrupted(): boolean;
  previewSuffix(nodeId: string, classType: string): string;
}

type Outcome =
  | { kind: 'success' }
  | { kind: 'error' | 'interrupted'; type: string; data: Record<string, unknown> };

/** Runs one prompt the way ComfyUI's PromptExecutor does and returns its history entry. */
export class PromptRun {
  private readonly clientId: string | undefined;
  private readonly messages: [string, unknown][] = [];
  private readonly values = new Map<string, CachedOutput>();
  private readonly ui: Record<string, UiOutput> = {};
  private readonly executed: string[] = [];
  private readonly progress: ProgressState;
  private signatures = new Map<string, NodeSignature>();

  constructor(
    private readonly item: QueueItem,
    private readonly deps: ExecutorDeps,
  ) {
    const id = item.extraData.client_id;
    this.clientId = typeof id === 'string' ? id : undefined;
    this.progress = new ProgressState(deps.events, item.promptId, this.clientId);
  }

  async execute(): Promise<HistoryEntry> {
    const outcome = await this.runAll();
    if (outcome.kind === 'success') this.record('execution_success', { prompt_id: this.item.promptId });
    else this.record(outcome.type, outcome.data, outcome.kind === 'interrupted' ? 'clientOrAll' : 'client');
    return this.historyEntry(outcome.kind === 'success');
  }

  private send(type: string, data: Record<string, unknown>): void {
    this.deps.events.send(type, data, this.clientId);
  }

  /** Sends a message that is also kept in the history's status.messages (they carry a timestamp). */
  private record(
    type: string,
    data: Record<string, unknown>,
    scope: 'client' | 'clientOrAll' = 'client',
  ): void {
    const stamped = { ...data, timestamp: Date.now() };
    this.messages.push([type, stamped]);
    this.deps.events.send(type, stamped, this.clientId, scope);
  }

  private async runAll(): Promise<Outcome> {
    const { prompt, outputs, promptId } = this.item;
    this.record('execution_start', { prompt_id: promptId });
    const needed = neededNodes(prompt, outputs);
    const { cache } = this.deps;
    // ComfyUI's classic cache keys every node of the prompt, run or not, and keeps only those entries.
    const keyed = cache.policy === 'classic' ? Object.keys(prompt) : needed;
    try {
      this.signatures = await computeSignatures(
        prompt,
        keyed,
        this.deps.registry,
        this.deps.env,
        new Set(needed),
      );
    } catch (err) {
      return this.failure(needed[0] ?? '', err);
    }
    cache.startPrompt(new Set([...this.signatures.values()].map((s) => s.key)));
    for (const id of keyed) {
      const hit = cache.get(this.signatures.get(id)?.key ?? '');
      if (hit) this.values.set(id, hit);
    }
    this.record('execution_cached', { nodes: [...this.values.keys()], prompt_id: promptId });
    const list = new ExecutionList(prompt, this.deps.registry, (id) => this.values.has(id));
    for (const output of outputs) list.addNode(output);
    for (let id = list.next(); id !== null; id = list.next()) {
      const outcome = await this.runNode(id);
      if (outcome) return outcome;
      list.complete(id);
      // Let sockets flush and requests (e.g. POST /interrupt) arrive between nodes, even when a long
      // chain of fast, synchronous nodes would otherwise run in one go.
      await yieldToLoop();
    }
    return { kind: 'success' };
  }

  private async runNode(id: string): Promise<Outcome | null> {
    const node = this.item.prompt[id] as PromptNode;
    const cached = this.values.get(id);
    if (cached) {
      if (cached.ui) this.showUi(id, cached.ui);
      this.progress.update(id, 1, 1, 'finished');
      return null;
    }
    this.progress.update(id, 0, 1, 'running');
    this.send('executing', { node: id, display_node: id, prompt_id: this.item.promptId });
    if (this.deps.isInterrupted()) return this.interrupted(id);
    const def = this.deps.registry.get(node.class_type) as NodeDefinition;
    let result: NodeResult;
    try {
      const inputs = this.inputsOf(node);
      checkTensorInputs(node.class_type, def, inputs);
      result = await def.run(inputs, this.context(id, node));
    } catch (err) {
      if (err instanceof InterruptedError) return this.interrupted(id);
      return this.failure(id, err);
    }
    this.store(id, result);
    this.executed.push(id);
    if (result.ui) this.showUi(id, result.ui);
    this.progress.update(id, 1, 1, 'finished');
    return null;
  }

  private store(id: string, result: NodeResult): void {
    const value: CachedOutput = result.ui
      ? { outputs: result.outputs, ui: result.ui }
      : { outputs: result.outputs };
    this.values.set(id, value);
    const signature = this.signatures.get(id);
    if (signature?.cacheable) this.deps.cache.set(signature.key, value);
  }

  private showUi(id: string, output: UiOutput): void {
    this.ui[id] = output;
    this.send('executed', { node: id, display_node: id, output, prompt_id: this.item.promptId });
  }

  private inputsOf(node: PromptNode): Record<string, unknown> {
    const inputs: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(node.inputs)) {
      inputs[name] = isLink(value) ? this.values.get(String(value[0]))?.outputs[value[1]] : value;
    }
    return inputs;
  }

  private context(id: string, node: PromptNode): RunContext {
    const { promptId, prompt, extraData } = this.item;
    const extra = extraData.extra_pnginfo;
    return {
      ...this.deps.env,
      promptId,
      nodeId: id,
      prompt,
      extraPngInfo:
        typeof extra === 'object' && extra !== null ? (extra as Record<string, unknown>) : undefined,
      isInterrupted: () => this.deps.isInterrupted(),
      progress: (value, max) => {
        this.send('progress', { value, max, prompt_id: promptId, node: id });
        this.progress.update(id, value, max, 'running');
      },
      progressText: (text) => this.deps.events.sendText(id, text),
      previewSuffix: () => this.deps.previewSuffix(id, node.class_type),
      inputTypes: this.inputTypesOf(node),
    };
  }

  private inputTypesOf(node: PromptNode): Record<string, string> {
    const types: Record<string, string> = {};
    for (const [name, value] of Object.entries(node.inputs)) {
      if (!isLink(value)) continue;
      const source = this.item.prompt[String(value[0])];
      const type = source && this.deps.registry.get(source.class_type)?.outputs[value[1]];
      if (type) types[name] = type;
    }
    return types;
  }

  private interrupted(id: string): Outcome {
    const node = this.item.prompt[id] as PromptNode;
    return {
      kind: 'interrupted',
      type: 'execution_interrupted',
      data: {
        prompt_id: this.item.promptId,
        node_id: id,
        node_type: node.class_type,
        executed: [...this.executed],
      },
    };
  }

  private failure(id: string, err: unknown): Outcome {
    const node = this.item.prompt[id];
    const error = err instanceof Error ? err : new Error(String(err));
    const currentInputs = Object.fromEntries(
      Object.entries(node ? this.inputsOf(node) : {}).map(([k, v]) => [k, [describeValue(v)]]),
    );
    return {
      kind: 'error',
      type: 'execution_error',
      data: {
        prompt_id: this.item.promptId,
        node_id: id,
        node_type: node?.class_type ?? '',
        executed: [...this.executed],
        exception_message: error.message,
        exception_type: error.name === 'Error' || error.name === 'NodeError' ? 'Exception' : error.name,
        traceback: (error.stack ?? '').split('\n').slice(1, 8),
        current_inputs: currentInputs,
        current_outputs: [...this.values.keys()],
      },
    };
  }

  private historyEntry(success: boolean): HistoryEntry {
    const { number, promptId, prompt, extraData, outputs } = this.item;
    const { auth_token_comfy_org: _a, api_key_comfy_org: _b, ...publicExtra } = extraData;
    const meta = Object.fromEntries(
      Object.keys(this.ui).map((id) => [
        id,
        { node_id: id, display_node: id, parent_node: null, real_node_id: id },
      ]),
    );
    return {
      prompt: [number, promptId, prompt, publicExtra, outputs],
      outputs: this.ui,
      status: { status_str: success ? 'success' : 'error', completed: success, messages: this.messages },
      meta,
    };
  }
}

const TENSOR_CHECKS: Record<string, (value: unknown) => boolean> = { IMAGE: isImage, MASK: isMask };

/**
 * A value that reaches an IMAGE or MASK input through an any-type (`*`) output, such as FSDelay's
 * passthrough, passes validation (as in ComfyUI), and the node would then fail on it with an internal
 * error. Failing before the node runs gives a message that names the input.
 */
function checkTensorInputs(classType: string, def: NodeDefinition, inputs: Record<string, unknown>): void {
  for (const [name, [type]] of Object.entries({ ...def.input.required, ...def.input.optional })) {
    const check = typeof type === 'string' ? TENSOR_CHECKS[type] : undefined;
    const value = inputs[name];
    if (check && value !== undefined && !check(value)) {
      const got = typeof value === 'object' ? describeValue(value).slice(0, 80) : `a ${typeof value}`;
      throw new NodeError(`Input "${name}" of ${classType} must be of type ${type}, got ${got}`);
    }
  }
}
