// `@grpc/grpc-js` on both sides of a call. Calling: an interceptor that puts
// a TokenSource's token on every call (`authorization: Bearer …`, or `DPoP …`
// with a fresh proof in `dpop`), and one that sends the current Transaction
// Token on. Serving: interceptors that let a call through only with a valid
// access token, or Transaction Token, for it, refusing with UNAUTHENTICATED
// (`invalid_token`, `invalid_dpop_proof`), PERMISSION_DENIED
// (`insufficient_scope`) or UNAVAILABLE; the handler finds the claims with
// `claimsOf(call)`, or `txnOf(call)`.

import * as grpc from "@grpc/grpc-js";

import type { Claims } from "./claims.js";
import { InvalidToken, unavailable } from "./invalidToken.js";
import { authorizationFor, scopesFor, verifyCall, type ScopeRules } from "./presented.js";
import { TokenError } from "./tokenError.js";
import type { TokenSource } from "./tokenSource.js";
import { runWithTxnToken, TXN_TOKEN_HEADER, currentTxnToken, type TxnToken, type TxnVerifier } from "./txn.js";
import type { Verifier } from "./verifier.js";

/** Claims by the metadata object the handler's call carries: set by the interceptor only, never by a caller. */
const verified = new WeakMap<grpc.Metadata, Claims>();
/** Transaction Tokens the same way. */
const transactions = new WeakMap<grpc.Metadata, TxnToken>();

export interface BearerOptions {
  scope?: string;
  audience?: readonly string[];
  /** The called service's URL (`http://orders:50051`), which DPoP proofs name; needed with a DPoP key. */
  origin?: string;
}

/** Puts a token from `source` on every call; when none can be had, the call fails without being sent. */
export function bearerInterceptor(source: TokenSource, options: BearerOptions = {}): grpc.Interceptor {
  return (callOptions, nextCall) =>
    new grpc.InterceptingCall(nextCall(callOptions), {
      start(metadata, listener, next) {
        const path = callOptions.method_definition.path;
        source
          .token({ scope: options.scope, audience: options.audience })
          .then((token) => authorizationFor(token, source.dpopKey, "POST", `${options.origin ?? "http://unknown"}${path}`))
          .then(
            ({ authorization, proof }) => {
              metadata.set("authorization", authorization);
              if (proof) {
                metadata.set("dpop", proof);
              }
              next(metadata, listener);
            },
            (error: unknown) => {
              const retryable = error instanceof TokenError && error.retryable;
              listener.onReceiveStatus({
                code: retryable ? grpc.status.UNAVAILABLE : grpc.status.UNAUTHENTICATED,
                details: `no token for the call: ${error instanceof Error ? error.message : String(error)}`,
                metadata: new grpc.Metadata(),
              });
            },
          );
      },
    });
}

/**
 * Lets a call through only with a valid token holding `scopes` (and
 * `methodScopes[path]`). `origin` is this server's URL as callers name it in
 * DPoP proofs (`http://orders:50051`).
 */
export function verifyInterceptor(verifier: Verifier, rules: ScopeRules = {}): grpc.ServerInterceptor {
  return checking((method, call, metadata) => {
    const certificate = (call.getAuthContext?.() as { sslPeerCertificate?: { raw?: Buffer } } | undefined)?.sslPeerCertificate?.raw;
    const incoming = {
      authorization: first(metadata.get("authorization")),
      proofs: metadata.get("dpop").map(String),
      method: "POST",
      url: `${(rules.origin ?? `http://${call.getHost()}`).replace(/\/+$/, "")}${method.path}`,
      certificateDer: certificate,
    };
    return verifyCall(verifier, incoming, scopesFor(rules, method.path)).then((claims) => {
      verified.set(metadata, claims);
    });
  });
}

/**
 * Lets a call through only with a Transaction Token (`txn-token` metadata)
 * of the verifier's trust domain holding `scopes`; handlers read it with
 * `txnOf(call)`, and those wrapped by `withCurrentTxnToken` find it current.
 */
export function txnTokenInterceptor(verifier: TxnVerifier, options: { scopes?: readonly string[] } = {}): grpc.ServerInterceptor {
  return checking(async (_method, _call, metadata) => {
    const token = first(metadata.get(TXN_TOKEN_HEADER));
    if (token === undefined) {
      throw new InvalidToken("no Transaction Token (txn-token)");
    }
    transactions.set(metadata, { token, claims: await verifier.verify(token, options) });
  });
}

/** The Transaction Token of a call `txnTokenInterceptor` let through. */
export function txnOf(call: { metadata: grpc.Metadata }): TxnToken {
  const txn = transactions.get(call.metadata);
  if (!txn) {
    throw new Error("no verified Transaction Token on this call: is txnTokenInterceptor installed on the server?");
  }
  return txn;
}

/**
 * `implementation` with every handler run with its call's Transaction Token
 * current, so the calls it makes through `propagateTxnInterceptor` carry it.
 */
export function withCurrentTxnToken<T extends object>(implementation: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, handler] of Object.entries(implementation)) {
    wrapped[name] =
      typeof handler === "function"
        ? (call: { metadata: grpc.Metadata }, ...rest: unknown[]) => runWithTxnToken(txnOf(call), () => handler(call, ...rest))
        : handler;
  }
  return wrapped as T;
}

/** Sends the current Transaction Token, if any, with every call. */
export function propagateTxnInterceptor(): grpc.Interceptor {
  return (callOptions, nextCall) =>
    new grpc.InterceptingCall(nextCall(callOptions), {
      start(metadata, listener, next) {
        const txn = currentTxnToken();
        if (txn && metadata.get(TXN_TOKEN_HEADER).length === 0) {
          metadata.set(TXN_TOKEN_HEADER, txn.token);
        }
        next(metadata, listener);
      },
    });
}

/**
 * A server interceptor that lets a call through once `check` resolves on its
 * metadata, and refuses it with the gRPC status of the rejection otherwise.
 */
function checking(
  check: (method: grpc.ServerMethodDefinition<unknown, unknown>, call: grpc.ServerInterceptingCallInterface, metadata: grpc.Metadata) => Promise<void>,
): grpc.ServerInterceptor {
  return (method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, pass) {
            check(method, call, metadata).then(
              () => pass(metadata),
              (error: unknown) => {
                const refused = error instanceof InvalidToken ? error : unavailable("the token could not be checked");
                call.sendStatus({ code: refused.grpcCode, details: refused.description, metadata: new grpc.Metadata() });
              },
            );
          },
        });
      },
    });
}

/** The claims of a call the interceptor let through. */
export function claimsOf(call: { metadata: grpc.Metadata }): Claims {
  const claims = verified.get(call.metadata);
  if (!claims) {
    throw new Error("no verified token on this call: is verifyInterceptor installed on the server?");
  }
  return claims;
}

function first(values: grpc.MetadataValue[]): string | undefined {
  return values.length === 0 ? undefined : String(values[0]);
}
