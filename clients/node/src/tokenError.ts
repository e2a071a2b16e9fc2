// Why no token could be had, the same whether it was asked over HTTP or gRPC.

export class TokenError extends Error {
  /** The OAuth error code tokend answered with (`invalid_client`, `invalid_scope`, …), or `temporarily_unavailable`. */
  readonly error: string;
  readonly description: string;
  /** Whether asking again may succeed: tokend was unavailable or rate-limited the client. */
  readonly retryable: boolean;
  /** How long tokend asked the client to wait before asking again, in ms. */
  readonly retryAfterMs: number | undefined;

  constructor(error: string, description: string, options: { retryable?: boolean; retryAfterMs?: number } = {}) {
    super(`${error}: ${description}`);
    this.name = "TokenError";
    this.error = error;
    this.description = description;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}
