import { FlowscaleAPI, type GetAllOutputsResponse, type WorkflowInput } from 'flowscale';
import './registry.gen';

const api = new FlowscaleAPI({ apiKey: 'k', baseUrl: 'http://127.0.0.1' });

export async function typed(loose: string, blob: Blob, bytes: Uint8Array) {
  await api.executeWorkflow('text-echo', { default_value_1: 'x' });
  await api.executeWorkflow('text-echo', {});
  await api.executeWorkflow('invert-image', { image_1: blob });
  await api.executeWorkflow('invert-image', { image_1: bytes }, 'group', { timeout: 5 });
  await api.executeWorkflow('invert-image', { image_1: 'https://example.com/a.png' });
  const result: GetAllOutputsResponse = await api.executeWorkflowAsync('text-echo', { default_value_1: 'x' });
  // Unknown ids and plain strings keep the documented loose WorkflowInput.
  await api.executeWorkflow('some-other-workflow', { anything_1: 1, flag_2: true, file_3: blob });
  await api.executeWorkflow(loose, { whatever: 'x' });
  const input: WorkflowInput = { a: 1 };
  await api.executeWorkflow(loose, input);

  // @ts-expect-error misspelled input name
  await api.executeWorkflow('text-echo', { default_valu_1: 'x' });
  // @ts-expect-error wrong value type
  await api.executeWorkflow('text-echo', { default_value_1: 5 });
  // @ts-expect-error required file input missing
  await api.executeWorkflow('invert-image', {});
  // @ts-expect-error a number is not an Uploadable
  await api.executeWorkflow('invert-image', { image_1: 42 });
  // @ts-expect-error the async variant is typed the same way
  await api.executeWorkflowAsync('text-echo', { nope: 'x' });
  return result;
}

interface MyRegistry {
  'solid-color': { inputs: { default_value_1?: number }; outputs: { filename_prefix_3: 'image' } };
}
const local = new FlowscaleAPI<MyRegistry>({ apiKey: 'k' });
export async function viaTypeParameter() {
  await local.executeWorkflow('solid-color', { default_value_1: 64 });
  // @ts-expect-error wrong type through the class type parameter
  await local.executeWorkflow('solid-color', { default_value_1: '64' });
}
