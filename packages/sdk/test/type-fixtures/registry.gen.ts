// The exact shape docs/sdk-typed-workflows.md tells generators to write.
import type { Uploadable } from 'flowscale';

declare module 'flowscale' {
  interface WorkflowRegistry {
    'text-echo': {
      inputs: { default_value_1?: string };
      outputs: { filename_prefix_3: 'string' };
    };
    'invert-image': {
      inputs: { image_1: Uploadable | string };
      outputs: { filename_prefix_3: 'image' };
    };
  }
}
