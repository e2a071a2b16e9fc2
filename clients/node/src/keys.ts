// The issuer's published keys: found through RFC 8414 discovery (the
// metadata must name the same issuer), kept for their max age, fetched again
// when a token names a key not seen yet, at most once per interval.

import { importJWK, type CryptoKey, type JWK, type KeyObject } from "jose";

import { Http } from "./http.js";
import { unavailable } from "./invalidToken.js";

/** A published key with the one algorithm it may verify. */
export interface PublishedKey {
  key: CryptoKey | KeyObject | Uint8Array;
  alg: string;
}

/** RFC 8414 §3: the well-known segment goes between the host and any path. */
export function metadataUrl(issuer: string): string {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, "");
  return `${url.protocol}//${url.host}/.well-known/oauth-authorization-server${path}`;
}

export class KeySet {
  readonly #http: Http;
  readonly #jwksUri: string;
  readonly #refetchIntervalMs: number;
  readonly #maxAgeMs: number;
  #keys = new Map<string, PublishedKey>();
  #fetchedAt = 0;
  #lastAttempt = 0;
  #fetching: Promise<void> | undefined;

  private constructor(http: Http, jwksUri: string, refetchIntervalMs: number, maxAgeMs: number) {
    this.#http = http;
    this.#jwksUri = jwksUri;
    this.#refetchIntervalMs = refetchIntervalMs;
    this.#maxAgeMs = maxAgeMs;
  }

  /** The issuer's keys, fetched now so a misconfigured issuer fails at start. */
  static async discover(http: Http, issuer: string, refetchIntervalMs: number, maxAgeMs: number): Promise<KeySet> {
    const metadata = await http.getJson(metadataUrl(issuer));
    if (metadata.issuer !== issuer) {
      throw unavailable(`the metadata names issuer ${JSON.stringify(metadata.issuer)}, not ${JSON.stringify(issuer)}`);
    }
    if (typeof metadata.jwks_uri !== "string") {
      throw unavailable("the metadata names no jwks_uri");
    }
    const keys = new KeySet(http, metadata.jwks_uri, refetchIntervalMs, maxAgeMs);
    keys.#keys = await keys.#fetch();
    keys.#fetchedAt = keys.#lastAttempt = performance.now();
    return keys;
  }

  /**
   * The key named `kid`: fetched again if unknown or old, at most once per
   * interval and by one caller at a time; known keys keep verifying while the
   * issuer is unreachable.
   */
  async key(kid: string): Promise<PublishedKey | undefined> {
    const fresh = performance.now() - this.#fetchedAt < this.#maxAgeMs;
    if (fresh && this.#keys.has(kid)) {
      return this.#keys.get(kid);
    }
    if (!this.#fetching && performance.now() - this.#lastAttempt >= this.#refetchIntervalMs) {
      this.#lastAttempt = performance.now();
      this.#fetching = this.#fetch()
        .then((keys) => {
          this.#keys = keys;
          this.#fetchedAt = performance.now();
        })
        .catch(() => undefined) // the keys in hand keep serving
        .finally(() => {
          this.#fetching = undefined;
        });
    }
    await this.#fetching;
    return this.#keys.get(kid);
  }

  async #fetch(): Promise<Map<string, PublishedKey>> {
    const keys = new Map<string, PublishedKey>();
    const published = (await this.#http.getJson(this.#jwksUri)).keys;
    for (const jwk of Array.isArray(published) ? (published as JWK[]) : []) {
      if ((jwk.use ?? "sig") !== "sig" || typeof jwk.kid !== "string" || typeof jwk.alg !== "string") {
        continue;
      }
      try {
        keys.set(jwk.kid, { key: await importJWK(jwk, jwk.alg), alg: jwk.alg });
      } catch {
        // A key this runtime cannot use verifies nothing; the others still do.
      }
    }
    return keys;
  }
}
