// Token requests to tokend's `TokenService.IssueToken` over gRPC, with
// `@grpc/grpc-js` and the contract loaded from the package's copy of proto/.

import { fileURLToPath } from "node:url";

import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";

import { prover, type ClientCredentials, type Prover } from "./credentials.js";
import type { DpopKey } from "./dpopKey.js";
import type { TlsOptions } from "./http.js";
import { statusDetails } from "./statusDetails.js";
import { TokenError } from "./tokenError.js";
import type { Issued, Transport } from "./tokenSource.js";

export type GrpcTransportOptions = TlsOptions & {
  /** Channel credentials of the caller's own; by default plaintext, or TLS when `ca` or `cert` is given. */
  channelCredentials?: grpc.ChannelCredentials;
  dpop?: DpopKey;
  /** The URL DPoP proofs name tokend by (default `http://address`, or `https://` with TLS). */
  origin?: string;
  /** The `aud` of `private_key_jwt` assertions: tokend's issuer (default `origin`). */
  issuer?: string;
  /** How long one call may take, in ms (default 10 s). */
  timeoutMs?: number;
};

/** Codes worth asking again: UNAVAILABLE, and a rate limit's RESOURCE_EXHAUSTED. */
const RETRYABLE_CODES = [grpc.status.UNAVAILABLE, grpc.status.RESOURCE_EXHAUSTED];

type IssueTokenClient = grpc.Client & {
  IssueToken(
    request: Record<string, unknown>,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response?: Record<string, unknown>) => void,
  ): grpc.ClientUnaryCall;
};

let tokenServiceClient: grpc.ServiceClientConstructor | undefined;

/** The generated client of `tokend.v1.TokenService`, loaded once. */
export function tokenServiceConstructor(): grpc.ServiceClientConstructor {
  if (!tokenServiceClient) {
    const proto = fileURLToPath(new URL("./proto/tokend/v1/token_service.proto", import.meta.url));
    const loaded = grpc.loadPackageDefinition(loadSync(proto, { keepCase: true, longs: Number, defaults: true }));
    tokenServiceClient = ((loaded.tokend as grpc.GrpcObject).v1 as grpc.GrpcObject).TokenService as grpc.ServiceClientConstructor;
  }
  return tokenServiceClient;
}

export class GrpcTransport implements Transport {
  readonly #client: IssueTokenClient;
  readonly #prove: Prover;
  readonly #dpop: DpopKey | undefined;
  readonly #proofUrl: string;
  readonly #timeoutMs: number;

  constructor(address: string, credentials: ClientCredentials, options: GrpcTransportOptions = {}) {
    const tls = options.ca !== undefined || options.cert !== undefined;
    const channel =
      options.channelCredentials ??
      (tls ? grpc.credentials.createSsl(pem(options.ca), pem(options.key), pem(options.cert)) : grpc.credentials.createInsecure());
    const origin = (options.origin ?? `${tls ? "https" : "http"}://${address}`).replace(/\/+$/, "");
    this.#client = new (tokenServiceConstructor())(address, channel) as unknown as IssueTokenClient;
    this.#prove = prover(credentials, options.issuer ?? origin);
    this.#dpop = options.dpop;
    this.#proofUrl = `${origin}/tokend.v1.TokenService/IssueToken`;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  async issue(scope: string, audience: readonly string[]): Promise<Issued> {
    const request = { grant_type: "client_credentials", scope, audience: [...audience], ...(await this.#prove()) };
    const metadata = new grpc.Metadata();
    if (this.#dpop) {
      metadata.set("dpop", await this.#dpop.proof("POST", this.#proofUrl));
    }
    const response = await new Promise<Record<string, unknown>>((resolve, reject) => {
      this.#client.IssueToken(request, metadata, { deadline: Date.now() + this.#timeoutMs }, (error, answer) =>
        error ? reject(failure(error)) : resolve(answer ?? {}),
      );
    });
    return {
      accessToken: String(response.access_token),
      tokenType: String(response.token_type),
      expiresIn: Number(response.expires_in),
      scope: String(response.scope ?? ""),
    };
  }

  close(): void {
    this.#client.close();
  }
}

function pem(text: string | Buffer | undefined): Buffer | null {
  return text === undefined ? null : Buffer.from(text);
}

function failure(error: grpc.ServiceError): TokenError {
  const encoded = error.metadata?.get("grpc-status-details-bin")[0];
  const details = encoded instanceof Buffer ? statusDetails(encoded) : {};
  const retryable = RETRYABLE_CODES.includes(error.code);
  const reason = details.reason ?? (retryable ? "temporarily_unavailable" : grpc.status[error.code]?.toLowerCase() ?? "unknown");
  return new TokenError(reason, error.details, { retryable, retryAfterMs: details.retryDelayMs });
}
