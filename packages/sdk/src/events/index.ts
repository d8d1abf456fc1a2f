// `flowscale/events`: the run-event contract (the union, the statuses, the terminal sets and guards),
// which the server, the CLI and the React hooks import instead of declaring their own. The core entry
// (`flowscale`) exports the same types; of the runtime values it ships only TERMINAL_STATUSES, which its
// event stream imports from terminal.ts, so a program using both entries loads one declaration.
export * from './statuses';
export * from './terminal';
export type * from './types';
