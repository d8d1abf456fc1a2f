import type { Backend } from '../backends/backend-pool';

/**
 * Which input files (by content hash) each backend already holds, and under what name, so the same file
 * is uploaded to a backend once, not once per run. What is remembered is only a hint: before a run relies
 * on it, the backend is asked whether the file is still there (someone may have cleaned its input folder),
 * and a backend that (re)connects, perhaps after a restart, is forgotten entirely.
 */
export class BackendUploads {
  readonly #names = new Map<string, Map<string, string>>();
  readonly #inFlight = new Map<string, Promise<string>>();

  forget(backendId: string): void {
    this.#names.delete(backendId);
  }

  /** The backend's name for the file (`fileKey`: its hash and extension): reused if still there, else uploaded (once, however many ask). */
  async place(backend: Backend, fileKey: string, upload: () => Promise<string>): Promise<string> {
    const known = this.#names.get(backend.id)?.get(fileKey);
    if (known !== undefined && (await backend.client.hasInput(known))) return known;
    const key = `${backend.id}\0${fileKey}`;
    let pending = this.#inFlight.get(key);
    if (!pending) {
      pending = upload()
        .then((name) => {
          const names = this.#names.get(backend.id) ?? new Map<string, string>();
          names.set(fileKey, name);
          this.#names.set(backend.id, names);
          return name;
        })
        .finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, pending);
    }
    return pending;
  }
}
