import type { FastifyInstance } from 'fastify';
import { invalidSetting, type Setting } from './settings';

const PORT: Setting = { env: 'FLOWSCALE_PORT', flag: '--port' };
const HOST: Setting = { env: 'FLOWSCALE_HOST', flag: '--host' };

/** Listens, turning the usual socket errors into one line that names the setting to change. */
export async function listen(app: FastifyInstance, host: string, port: number): Promise<void> {
  try {
    await app.listen({ host, port });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw invalidSetting(PORT, port, `port ${port} on ${host} is already in use by another process`);
    if (code === 'EACCES')
      throw invalidSetting(
        PORT,
        port,
        `permission denied to listen on port ${port} (below 1024 needs privileges)`,
      );
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN')
      throw invalidSetting(HOST, host, `no such address on this machine (${code})`);
    throw error;
  }
}
