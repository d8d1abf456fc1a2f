import { describe, expect, it } from 'vitest';
import type { WorkflowSchema } from '../src/schema';
import { generateWorkflowTypes, inputType, pascalCase, tsString } from '../src/typegen';

const textEcho: WorkflowSchema = {
  id: 'wf_text',
  name: 'text-echo',
  description: 'Echoes */ text',
  input_schema: [
    {
      name: 'default_value_1',
      type: 'string',
      required: false,
      default: 'hello',
      node_id: '1',
      parameter: 'default_value',
    },
  ],
  output_schema: [{ name: 'filename_prefix_3', type: 'string', required: true }],
};
const invert: WorkflowSchema = {
  id: 'wf_invert',
  name: 'invert-image',
  input_schema: [{ name: 'image_1', type: 'image', required: true }],
  output_schema: [{ name: 'filename_prefix_3', type: 'image', required: true }],
};

describe('generateWorkflowTypes', () => {
  const text = generateWorkflowTypes([textEcho, invert]);

  it('writes a module that augments the SDK registry', () => {
    expect(text).toContain("import type { Uploadable } from 'flowscale';");
    expect(text).toContain("declare module 'flowscale' {\n  interface WorkflowRegistry {");
  });

  it('keys each workflow by name and by id, sharing one type', () => {
    expect(text).toContain("    'text-echo': TextEchoWorkflow;");
    expect(text).toContain("    'wf_text': TextEchoWorkflow;");
    expect(text).toContain("    'invert-image': InvertImageWorkflow;");
    expect(text).toContain("    'wf_invert': InvertImageWorkflow;");
  });

  it('marks inputs with defaults optional and maps file inputs to Uploadable | string', () => {
    expect(text).toContain('    default_value_1?: string;');
    expect(text).toContain('    image_1: Uploadable | string;');
    expect(text).toContain("    filename_prefix_3: 'image';");
  });

  it('lets an aliased input go by either name but not both', () => {
    const greeter: WorkflowSchema = {
      id: 'wf_greeter',
      name: 'greeter',
      input_schema: [
        { name: 'default_value_1', alias: 'greeting', type: 'string', default: 'hey' },
        { name: 'steps_2', alias: 'steps', type: 'integer', required: true },
        { name: 'plain_3', type: 'boolean', required: true },
      ],
      output_schema: [],
    };
    const typed = generateWorkflowTypes([greeter]);
    expect(typed).toContain('  inputs: {\n    /** boolean */\n    plain_3: boolean;\n  } & (');
    expect(typed).toContain(
      '    | { /** string, default "hey" */ default_value_1?: string; greeting?: never }',
    );
    expect(typed).toContain(
      '    | { /** string, default "hey" */ greeting?: string; default_value_1?: never }',
    );
    expect(typed).toContain('    | { /** integer */ steps_2: number; steps?: never }');
    expect(typed).toContain('    | { /** integer */ steps: number; steps_2?: never }');
  });

  it('keeps comments from closing early', () => {
    expect(text).toContain('/** Echoes *\\/ text */');
  });

  it('is deterministic regardless of input order', () => {
    expect(generateWorkflowTypes([invert, textEcho])).toBe(text);
  });

  it('does not import Uploadable when no workflow takes files', () => {
    const out = generateWorkflowTypes([textEcho]);
    expect(out).toContain("import type {} from 'flowscale';");
    expect(out).not.toContain('Uploadable');
  });

  it('keeps identifiers unique and quotes odd property names', () => {
    const a: WorkflowSchema = { ...textEcho, id: 'x1', name: 'a b' };
    const b: WorkflowSchema = {
      ...textEcho,
      id: 'x2',
      name: 'a-b',
      input_schema: [{ name: 'weird-name', type: 'integer', required: true }],
    };
    const out = generateWorkflowTypes([a, b]);
    expect(out).toContain('type ABWorkflow = {');
    expect(out).toContain('type ABWorkflow2 = {');
    expect(out).toContain("    'weird-name': number;");
  });
});

describe('inputType', () => {
  it('maps schema types to TypeScript', () => {
    expect(inputType({ name: 'a', type: 'integer' })).toBe('number');
    expect(inputType({ name: 'a', type: 'boolean' })).toBe('boolean');
    expect(inputType({ name: 'a', type: 'audio' })).toBe('Uploadable | string');
    expect(inputType({ name: 'a', type: 'string', choices: ['x', "it's"] })).toBe("'x' | 'it\\'s'");
    expect(inputType({ name: 'a', type: 'integer', choices: [1, 2] })).toBe('1 | 2');
  });
  it('quotes strings the way TypeScript reads them back', () => {
    expect(tsString("a'b\\c\nd")).toBe("'a\\'b\\\\c\\nd'");
  });
  it('makes names into identifiers', () => {
    expect(pascalCase('text-echo')).toBe('TextEcho');
    expect(pascalCase('3d-thing')).toBe('W3dThing');
  });
});
