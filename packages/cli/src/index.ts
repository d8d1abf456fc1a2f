export { DEFAULT_API_URL, parseDotEnv, type ResolvedConfig, resolveConfig } from './config';
export { CliError, ExitCode, type ExitCodeValue } from './exit-codes';
export { buildInputs, coerceScalar, parseInputFlags } from './inputs';
export type { CliIO, OutStream } from './io';
export { createProgram, runCli, VERSION } from './program';
export type { SchemaField, WorkflowSchema } from './schema';
export { generateWorkflowTypes } from './typegen';
