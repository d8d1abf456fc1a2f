import { engineHello } from '@flowscale/engine';
export const serverHello = (): string => `server+${engineHello()}`;
