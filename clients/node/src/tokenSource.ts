// The cached, single-flight token source: one token per (scope, audience),
// used until a tenth of its life (at most a minute) before it expires,
// refreshed in the background ahead of that, fetched once for any number of
// waiting callers, and asked again with backoff (or after the delay tokend
// names) while tokend is unavailable or rate-limits the client.

import { setTimeout as sleep } from "node:timers/promises";

import type { ClientCredentials } from "./credentials.js";
import type { DpopKey } from "./dpopKey.js";
import { GrpcTransport, type GrpcTransportOptions } from "./grpcTransport.js";
import { HttpTransport, type HttpTransportOptions } from "./httpTransport.js";
import { TokenError } from "./tokenError.js";

/** An access token and when to stop using it (`performance.now()` ms). */
export interface Token {
  accessToken: string;
  /** `Bearer`, or `DPoP` for a token bound to the source's DPoP key. */
  tokenType: string;
  scope: string;
  /** A margin before the real expiry, so the token is never sent stale. */
  useUntil: number;
  /** From here on, callers still get this token while a fresh one is fetched in the background. */
  refreshFrom: number;
}

/** What a transport answers to a token request. */
export interface Issued {
  accessToken: string;
  tokenType: string;
  expiresIn: number;
  scope: string;
}

/** One way of asking tokend for a token: its HTTP token endpoint or gRPC. */
export interface Transport {
  issue(scope: string, audience: readonly string[]): Promise<Issued>;
  close(): Promise<void> | void;
}

export interface SourceOptions {
  /** Seconds before a token's `useUntil` to fetch its successor in the background (by default, the safety margin). */
  refreshAheadSeconds?: number;
  /** Tries of one fetch while tokend is unavailable (default 4). */
  attempts?: number;
  /** The first wait between tries, in ms, doubled after each (default 50). */
  firstBackoffMs?: number;
  /** A DPoP key: tokens are bound to it, and `authorization` names the DPoP scheme. */
  dpop?: DpopKey;
}

interface Slot {
  token?: Token;
  fetching?: Promise<Token>;
  refreshing: boolean;
}

/** Fetches and caches tokens for one client. */
export class TokenSource {
  readonly #transport: Transport;
  readonly #options: SourceOptions;
  readonly #slots = new Map<string, Slot>();

  constructor(transport: Transport, options: SourceOptions = {}) {
    this.#transport = transport;
    this.#options = options;
  }

  /** Tokens from tokend's HTTP token endpoint under `issuer` (RFC 6749 §4.4, with `fetch`). */
  static overHttp(issuer: string, credentials: ClientCredentials, options: HttpTransportOptions & SourceOptions = {}): TokenSource {
    return new TokenSource(new HttpTransport(issuer, credentials, options), options);
  }

  /** Tokens from tokend's `TokenService.IssueToken` at `address` (`host:port`), with `@grpc/grpc-js`. */
  static overGrpc(address: string, credentials: ClientCredentials, options: GrpcTransportOptions & SourceOptions = {}): TokenSource {
    return new TokenSource(new GrpcTransport(address, credentials, options), options);
  }

  /** The DPoP key tokens are bound to, if any; calls presenting them sign proofs with it. */
  get dpopKey(): DpopKey | undefined {
    return this.#options.dpop;
  }

  /**
   * A token for `scope` (space-delimited; empty for the client's defaults)
   * and `audience` (empty for the client's), from the cache while it is
   * fresh. Rejects with `TokenError`.
   */
  async token(request: { scope?: string; audience?: readonly string[] } = {}): Promise<Token> {
    const scope = request.scope ?? "";
    const audience = request.audience ?? [];
    const key = JSON.stringify([scope, audience]);
    let slot = this.#slots.get(key);
    if (!slot) {
      slot = { refreshing: false };
      this.#slots.set(key, slot);
    }
    const now = performance.now();
    const cached = slot.token;
    if (cached && cached.useUntil > now) {
      if (cached.refreshFrom <= now && !slot.refreshing) {
        this.#refresh(slot, scope, audience);
      }
      return cached;
    }
    if (!slot.fetching) {
      const owner = slot;
      owner.fetching = this.#fetch(scope, audience)
        .then((token) => (owner.token = token))
        .finally(() => {
          owner.fetching = undefined;
        });
      return owner.fetching;
    }
    return slot.fetching;
  }

  /** Closes the source's connections. */
  async close(): Promise<void> {
    await this.#transport.close();
  }

  /** Fetches a successor without holding up callers; on failure the cached token stays until it runs out. */
  #refresh(slot: Slot, scope: string, audience: readonly string[]): void {
    slot.refreshing = true;
    this.#fetch(scope, audience)
      .then((token) => {
        slot.token = token;
      })
      .catch(() => undefined)
      .finally(() => {
        slot.refreshing = false;
      });
  }

  async #fetch(scope: string, audience: readonly string[]): Promise<Token> {
    const attempts = this.#options.attempts ?? 4;
    let backoff = this.#options.firstBackoffMs ?? 50;
    for (let attempt = 1; ; attempt += 1) {
      const asked = performance.now();
      try {
        return this.#made(await this.#transport.issue(scope, audience), asked);
      } catch (error) {
        const failure = error instanceof TokenError ? error : new TokenError("temporarily_unavailable", String(error));
        if (!failure.retryable || attempt >= attempts) {
          throw failure;
        }
        // The server's delay when it named one, else between half and all of the backoff, so clients do not retry in step.
        await sleep(failure.retryAfterMs ?? backoff / 2 + (Math.random() * backoff) / 2);
        backoff *= 2;
      }
    }
  }

  #made(issued: Issued, asked: number): Token {
    const lifetime = Math.max(issued.expiresIn, 0) * 1000;
    // Stop a tenth of the lifetime early, at most a minute.
    const margin = Math.min(lifetime / 10, 60_000);
    const useUntil = asked + lifetime - margin;
    const ahead = Math.min(this.#options.refreshAheadSeconds === undefined ? margin : this.#options.refreshAheadSeconds * 1000, lifetime - margin);
    return { accessToken: issued.accessToken, tokenType: issued.tokenType, scope: issued.scope, useUntil, refreshFrom: useUntil - ahead };
  }
}
