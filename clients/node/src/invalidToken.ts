// Why a token was refused, as the OAuth error code a caller sees (RFC 6750
// §3.1, RFC 9449 §7.1) with the HTTP status and gRPC code that go with it.

/** The OAuth error codes a verifier refuses with. */
export type RefusalCode = "invalid_token" | "invalid_dpop_proof" | "insufficient_scope" | "temporarily_unavailable";

const HTTP_STATUS: Record<RefusalCode, number> = {
  invalid_token: 401,
  invalid_dpop_proof: 401,
  insufficient_scope: 403,
  temporarily_unavailable: 503,
};

/** gRPC status codes: UNAUTHENTICATED, PERMISSION_DENIED, UNAVAILABLE. */
const GRPC_CODE: Record<RefusalCode, number> = {
  invalid_token: 16,
  invalid_dpop_proof: 16,
  insufficient_scope: 7,
  temporarily_unavailable: 14,
};

/** The algorithms a DPoP proof may be signed with, as the challenge names them. */
export const DPOP_ALGS = "ES256 ES384 EdDSA RS256 PS256";

/**
 * A token that may not be accepted, or (`temporarily_unavailable`) one whose
 * state cannot be known right now. `description` is safe to send to the caller.
 */
export class InvalidToken extends Error {
  readonly error: RefusalCode;
  readonly description: string;
  /** For `insufficient_scope`: every scope the call needs. */
  readonly scope: string | undefined;
  /** No token at all: the challenge names no error (RFC 6750 §3.1). */
  readonly missing: boolean;

  constructor(description: string, error: RefusalCode = "invalid_token", options: { scope?: string; missing?: boolean } = {}) {
    super(`${error}: ${description}`);
    this.name = "InvalidToken";
    this.error = error;
    this.description = description;
    this.scope = options.scope;
    this.missing = options.missing ?? false;
  }

  /** 401, 403, or 503 when the verifier could not tell. */
  get httpStatus(): number {
    return HTTP_STATUS[this.error];
  }

  /** The gRPC status code for the same refusal. */
  get grpcCode(): number {
    return GRPC_CODE[this.error];
  }

  /** The challenge for an HTTP answer; undefined with a 503. */
  get wwwAuthenticate(): string | undefined {
    switch (this.error) {
      case "insufficient_scope":
        return `Bearer error="insufficient_scope", scope="${this.scope ?? ""}"`;
      case "invalid_dpop_proof":
        return `DPoP error="invalid_dpop_proof", error_description="${this.description}", algs="${DPOP_ALGS}"`;
      case "invalid_token":
        return this.missing ? "Bearer" : `Bearer error="invalid_token", error_description="${this.description}"`;
      default:
        return undefined;
    }
  }
}

export function unavailable(description: string): InvalidToken {
  return new InvalidToken(description, "temporarily_unavailable");
}
