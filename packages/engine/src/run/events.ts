/**
 * Where prompt-scoped messages go. 'client' messages reach only the prompt's client_id socket (and nobody
 * when there is none); 'clientOrAll' messages (execution_interrupted, progress_state) are broadcast when
 * the prompt has no client_id, as ComfyUI does.
 */
export type Scope = 'client' | 'clientOrAll';

export interface EventSink {
  send(type: string, data: unknown, clientId: string | undefined, scope?: Scope): void;
  /** Binary TEXT frame (type 3), broadcast to every socket like ComfyUI's send_progress_text. */
  sendText(nodeId: string, text: string): void;
}
