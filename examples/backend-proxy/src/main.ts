import { fileURLToPath } from 'node:url';
import { createBackend } from './app';

// Configuration comes from the environment, like the FlowScale docs' backend-proxy example.
const required = (name: string): string => {
  const value = process.env[name];
  if (!value) {
    console.error(`Set ${name} (see examples/README.md)`);
    process.exit(1);
  }
  return value;
};

const port = Number(process.env.PORT ?? 3000);
const app = createBackend({
  flowscaleUrl: required('FLOWSCALE_API_URL'),
  flowscaleApiKey: required('FLOWSCALE_API_KEY'),
  jwtSecret: required('JWT_SECRET'),
  staticDir: process.env.STATIC_DIR ?? fileURLToPath(new URL('../../react-app/dist', import.meta.url)),
});
app.listen(port, () => console.log(`Example backend on http://localhost:${port} (sign in as demo / demo)`));
