/**
 * A minimal abort signal for "the client went away". It has the parts of
 * AbortSignal the pipeline uses (`aborted`, `reason`, add/removeEventListener
 * for 'abort') and undici accepts it as a request signal. Why not
 * AbortController: creating one per request (EventTarget machinery) cost
 * about a quarter of the proxy's CPU per request in bench/proxy.ts runs; this
 * costs an object with four fields.
 */
export class ClientSignal {
  aborted = false;
  reason: Error | undefined = undefined;
  private listeners: Array<() => void> | undefined = undefined;

  addEventListener(_type: 'abort', listener: () => void, _options?: unknown): void {
    if (this.listeners) this.listeners.push(listener);
    else this.listeners = [listener];
  }

  removeEventListener(_type: 'abort', listener: () => void, _options?: unknown): void {
    const l = this.listeners;
    if (!l) return;
    const i = l.indexOf(listener);
    if (i >= 0) l.splice(i, 1);
  }

  /** Mark aborted and call the listeners once. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = Object.assign(new Error('client disconnected'), { name: 'AbortError', code: 'ABORT_ERR' });
    const l = this.listeners;
    this.listeners = undefined;
    if (l) for (const fn of l) fn();
  }
}
