// Token Status Lists (draft-ietf-oauth-status-list-20) for the verifier:
// each list a token points to is fetched at its URI, checked (`typ`, the
// issuer's signature, `sub`, `exp`), kept for its `ttl`, and the token's bit
// read. One fetch per list per `ttl` however many requests; while one caller
// fetches, the others use the copy in hand. A list that cannot be fetched
// serves until its `exp`, then its tokens are refused (fail closed) unless
// the verifier was told to fail open.

import { inflateSync } from "node:zlib";

import { decodeProtectedHeader, jwtVerify } from "jose";

import { Http } from "./http.js";
import { InvalidToken, unavailable } from "./invalidToken.js";
import { KeySet } from "./keys.js";

const MEDIA_TYPE = "application/statuslist+jwt";
const TYP = "statuslist+jwt";
/** The bounds put on a list's `ttl`, in seconds. */
const MIN_TTL = 1;
const MAX_TTL = 3600;
/** The largest list inflated (a bound on what a broken list can make us allocate). */
const MAX_LIST_BYTES = 16 << 20;

interface Held {
  bits: Buffer;
  /** `performance.now()` after which the list is fetched again. */
  refreshAt: number;
  /** The list's `exp`, in seconds since the epoch. */
  exp: number;
}

interface Slot {
  held?: Held;
  fetching?: Promise<void>;
  lastFailure?: number;
}

export interface StatusListOptions {
  failOpen: boolean;
  retryIntervalMs: number;
  leewaySeconds: number;
}

export class StatusLists {
  readonly #http: Http;
  readonly #keys: KeySet;
  readonly #options: StatusListOptions;
  readonly #slots = new Map<string, Slot>();
  /** Lists fetched and accepted, and fetches that failed or did not check out. */
  fetched = 0;
  failed = 0;

  constructor(http: Http, keys: KeySet, options: StatusListOptions) {
    this.#http = http;
    this.#keys = keys;
    this.#options = options;
  }

  /** Rejects with `InvalidToken` unless the status at `idx` of the list at `uri` is VALID. */
  async check(uri: string, idx: number): Promise<void> {
    let slot = this.#slots.get(uri);
    if (!slot) {
      slot = {};
      this.#slots.set(uri, slot);
    }
    if (slot.held && performance.now() < slot.held.refreshAt) {
      return read(slot.held, idx);
    }
    const retryDue = slot.lastFailure === undefined || performance.now() - slot.lastFailure >= this.#options.retryIntervalMs;
    if (!slot.fetching && retryDue) {
      slot.fetching = this.#refresh(uri, slot);
    }
    const usable = slot.held && this.#valid(slot.held) ? slot.held : undefined;
    if (usable) {
      return read(usable, idx); // someone is fetching; the copy in hand serves
    }
    await slot.fetching;
    if (slot.held && this.#valid(slot.held)) {
      return read(slot.held, idx);
    }
    if (!this.#options.failOpen) {
      throw unavailable(`the status list ${uri} cannot be had`);
    }
  }

  async #refresh(uri: string, slot: Slot): Promise<void> {
    try {
      slot.held = await this.#fetch(uri);
      slot.lastFailure = undefined;
      this.fetched += 1;
    } catch {
      slot.lastFailure = performance.now();
      this.failed += 1;
    } finally {
      slot.fetching = undefined;
    }
  }

  #valid(held: Held): boolean {
    return Date.now() / 1000 < held.exp + this.#options.leewaySeconds;
  }

  async #fetch(uri: string): Promise<Held> {
    const token = await this.#http.get(uri, MEDIA_TYPE);
    let header;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw unavailable(`the status list ${uri} is malformed`);
    }
    if (header.typ !== TYP) {
      throw unavailable(`the status list ${uri} is not a status list token (typ)`);
    }
    const key = await this.#keys.key(String(header.kid ?? ""));
    if (!key || header.alg !== key.alg) {
      throw unavailable(`the status list ${uri} has an unknown key`);
    }
    let claims;
    try {
      ({ payload: claims } = await jwtVerify(token, key.key, {
        algorithms: [key.alg],
        clockTolerance: this.#options.leewaySeconds,
        requiredClaims: ["exp", "iat", "sub"],
      }));
    } catch {
      throw unavailable(`the status list ${uri} does not verify`);
    }
    const list = (claims.status_list ?? {}) as { bits?: unknown; lst?: unknown };
    if (claims.sub !== uri || list.bits !== 1 || typeof list.lst !== "string") {
      throw unavailable(`the status list ${uri} is not a 1-bit list for this URI`);
    }
    let bits;
    try {
      bits = inflateSync(Buffer.from(list.lst, "base64url"), { maxOutputLength: MAX_LIST_BYTES });
    } catch {
      throw unavailable(`the status list ${uri} does not decode`);
    }
    const ttl = Math.min(Math.max(Number(claims.ttl ?? MAX_TTL), MIN_TTL), MAX_TTL);
    const exp = Number(claims.exp);
    const untilExp = Math.max(exp - Date.now() / 1000, 0);
    return { bits, refreshAt: performance.now() + Math.min(ttl, untilExp) * 1000, exp };
  }
}

function read(held: Held, idx: number): void {
  if (idx < 0 || Math.floor(idx / 8) >= held.bits.length) {
    throw new InvalidToken("token status index is beyond its list");
  }
  if ((held.bits[Math.floor(idx / 8)]! >> idx % 8) & 1) {
    throw new InvalidToken("token revoked");
  }
}
