/** What a `Client` needs of a connection (tests pass an in-memory daemon). */
export interface Transport {
  /** Send one request; its result, or the error the daemon answered with. */
  call(method: string, params: Record<string, unknown>): Promise<unknown>;
  /** Close the connection (idempotent). */
  close(): void;
  /** True once the connection can carry no more requests. */
  readonly closed: boolean;
}
