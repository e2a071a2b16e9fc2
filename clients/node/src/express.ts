// Express (and any Connect-style `(req, res, next)` framework): middleware
// that lets a request through only with a valid access token, or
// Transaction Token. Refusals are 401, 403
// or 503 with a `WWW-Authenticate` challenge and the OAuth error as JSON.
// The claims are at `res.locals.claims` (or `claimsOf(res)`).

import type { TLSSocket } from "node:tls";

import type { Claims } from "./claims.js";
import { InvalidToken, unavailable } from "./invalidToken.js";
import { scopesFor, verifyCall, type ScopeRules } from "./presented.js";
import { runWithTxnToken, TXN_TOKEN_HEADER, type TxnVerifier } from "./txn.js";
import type { Verifier } from "./verifier.js";

/** The parts of an Express request the middleware reads. */
export interface IncomingRequest {
  method: string;
  originalUrl?: string;
  url?: string;
  protocol?: string;
  headers: Record<string, string | string[] | undefined>;
  socket: { encrypted?: boolean } & Partial<Pick<TLSSocket, "getPeerCertificate">>;
}

/** The parts of an Express response the middleware writes. */
export interface OutgoingResponse {
  locals: Record<string, unknown>;
  status(code: number): OutgoingResponse;
  set(field: string, value: string): OutgoingResponse;
  json(body: unknown): unknown;
}

/** Every request needs a valid token with `scopes`; `methodScopes` adds more by `METHOD path`. */
export function requireToken(verifier: Verifier, rules: ScopeRules = {}) {
  return (req: IncomingRequest, res: OutgoingResponse, next: (error?: unknown) => void): void => {
    const path = (req.originalUrl ?? req.url ?? "/").split("?")[0] ?? "/";
    const host = String(req.headers.host ?? "");
    const origin = rules.origin?.replace(/\/+$/, "") ?? `${req.protocol ?? (req.socket.encrypted ? "https" : "http")}://${host}`;
    const dpop = req.headers.dpop;
    const certificate = req.socket.encrypted ? req.socket.getPeerCertificate?.()?.raw : undefined;
    const call = {
      authorization: typeof req.headers.authorization === "string" ? req.headers.authorization : undefined,
      proofs: dpop === undefined ? [] : Array.isArray(dpop) ? dpop : [dpop],
      method: req.method,
      url: `${origin}${path}`,
      certificateDer: certificate,
    };
    verifyCall(verifier, call, scopesFor(rules, `${req.method} ${path}`)).then(
      (claims) => {
        res.locals.claims = claims;
        next();
      },
      (error: unknown) => refuse(res, error instanceof InvalidToken ? error : unavailable("the token could not be checked")),
    );
  };
}

/**
 * Every request needs a Transaction Token (`Txn-Token` header) of the
 * verifier's trust domain holding `scopes`; the rest of the request is
 * handled with it current (`currentTxnToken()`, `txnHeaders()`), and at
 * `res.locals.txn`.
 */
export function requireTxnToken(verifier: TxnVerifier, options: { scopes?: readonly string[] } = {}) {
  return (req: IncomingRequest, res: OutgoingResponse, next: (error?: unknown) => void): void => {
    const token = req.headers[TXN_TOKEN_HEADER];
    if (typeof token !== "string") {
      refuse(res, new InvalidToken("no Transaction Token (txn-token)"));
      return;
    }
    verifier.verify(token, options).then(
      (claims) => {
        const txn = { token, claims };
        res.locals.txn = txn;
        runWithTxnToken(txn, () => next());
      },
      (error: unknown) => refuse(res, error instanceof InvalidToken ? error : unavailable("the token could not be checked")),
    );
  };
}

/** The claims of the request whose response is `res`, set by `requireToken`. */
export function claimsOf(res: { locals: Record<string, unknown> }): Claims {
  return res.locals.claims as Claims;
}

function refuse(res: OutgoingResponse, refused: InvalidToken): void {
  if (refused.wwwAuthenticate) {
    res.set("www-authenticate", refused.wwwAuthenticate);
  }
  res.status(refused.httpStatus).json({ error: refused.error, error_description: refused.description });
}
