import type { InputSpec } from '../types';

export const FS = { category: 'FlowScale/IO', pythonModule: 'custom_nodes.flowscale-nodes' } as const;

/** Every FlowScale I/O node has this optional "I/O Label" used to name the API parameter. */
export const LABEL: Record<string, InputSpec> = { label: ['STRING', { default: '', tooltip: 'I/O Label' }] };

export const PREFIX: InputSpec = ['STRING', { default: 'FlowScale' }];
