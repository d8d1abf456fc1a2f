export type { ServerOptions } from './config/config';
export { type RunningServer, startServer } from './server';
