// Local verification of tokend's access tokens, with the checks the Rust and
// Python verifiers make: the signature with the algorithm the key was
// published for, `typ` `at+jwt`, `iss`, `aud`, `exp`/`nbf` with leeway, the
// scopes a call needs, the binding to a certificate (RFC 8705) or a DPoP key
// (RFC 9449), and the token's bit in its status list.

import { Claims } from "./claims.js";
import { DpopChecker, sha256 } from "./dpopCheck.js";
import { Http } from "./http.js";
import { InvalidToken } from "./invalidToken.js";
import { KeySet } from "./keys.js";
import { checkSigned } from "./signed.js";
import { StatusLists } from "./statusLists.js";

/** The `typ` of RFC 9068 access tokens, and its media-type form. */
const ACCESS_TOKEN_TYPES = ["at+jwt", "application/at+jwt"];
/** Tokens remembered as verified at once. */
const SEEN_CAPACITY = 10_000;

export interface VerifierOptions {
  /** CAs (PEM) to trust for the issuer's HTTPS, instead of the system's. */
  ca?: string | Buffer;
  /** Clock skew allowed on `exp` and `nbf`, in seconds (default 10). */
  leewaySeconds?: number;
  /** The least time between two fetches of the keys for an unknown `kid`, in ms (default 10 s). */
  refetchIntervalMs?: number;
  /** How long fetched keys are trusted before they are fetched again, in ms (default 5 minutes). */
  keyMaxAgeMs?: number;
  /** How old a DPoP proof may be, in seconds (default 60). */
  dpopProofMaxAgeSeconds?: number;
  /** Accept a token whose status list cannot be had (and whose last copy expired), instead of refusing it. */
  failOpenOnUnreachableStatusLists?: boolean;
}

/** What came with the token besides itself. */
export interface Presentation {
  /** Scopes the call needs; all must be granted. */
  scopes?: readonly string[];
  /** The DER of the caller's TLS client certificate, if it presented one. */
  certificateDer?: Uint8Array;
  /** The DPoP proof, when the token came with the DPoP scheme. */
  dpopProof?: string;
  /** The call's method and full URL, which a DPoP proof must name. */
  method?: string;
  url?: string;
}

/** Checks tokend access tokens for one API. */
export class Verifier {
  readonly issuer: string;
  readonly audience: string;
  readonly #keys: KeySet;
  readonly #status: StatusLists;
  readonly #http: Http;
  readonly #leeway: number;
  readonly #keyMaxAgeMs: number;
  readonly #dpop: DpopChecker;
  #seen = new Map<string, { claims: Claims; until: number }>();

  private constructor(issuer: string, audience: string, http: Http, keys: KeySet, options: VerifierOptions) {
    this.issuer = issuer;
    this.audience = audience;
    this.#http = http;
    this.#keys = keys;
    this.#leeway = options.leewaySeconds ?? 10;
    this.#keyMaxAgeMs = options.keyMaxAgeMs ?? 300_000;
    this.#dpop = new DpopChecker(options.dpopProofMaxAgeSeconds ?? 60);
    this.#status = new StatusLists(http, keys, {
      failOpen: options.failOpenOnUnreachableStatusLists ?? false,
      retryIntervalMs: options.refetchIntervalMs ?? 10_000,
      leewaySeconds: this.#leeway,
    });
  }

  /**
   * Finds the keys through the issuer's RFC 8414 metadata and fetches them
   * now, so a misconfigured issuer fails at start.
   */
  static async discover(issuer: string, audience: string, options: VerifierOptions = {}): Promise<Verifier> {
    const http = new Http({ ca: options.ca });
    const keys = await KeySet.discover(http, issuer, options.refetchIntervalMs ?? 10_000, options.keyMaxAgeMs ?? 300_000);
    return new Verifier(issuer, audience, http, keys, options);
  }

  /**
   * The claims of `token` if it may be used for a call needing `scopes`:
   * over a connection whose client certificate is `certificateDer`, and with
   * `dpopProof` for `method` `url` when it came with the DPoP scheme.
   * Rejects with `InvalidToken`.
   */
  async verify(token: string, presented: Presentation = {}): Promise<Claims> {
    const claims = this.#seenClaims(token) ?? (await this.#check(token));
    await this.#confirm(claims, token, presented);
    const reference = claims.status?.status_list as { idx?: unknown; uri?: unknown } | undefined;
    if (reference && typeof reference === "object") {
      if (!Number.isInteger(reference.idx) || typeof reference.uri !== "string") {
        throw new InvalidToken("malformed token status");
      }
      await this.#status.check(reference.uri, reference.idx as number);
    }
    const required = presented.scopes ?? [];
    if (required.some((scope) => !claims.scopes.includes(scope))) {
      const scope = required.join(" ");
      throw new InvalidToken(`this call needs scope "${scope}"`, "insufficient_scope", { scope });
    }
    return claims;
  }

  /** Status lists fetched, and fetches that failed, for the service's metrics. */
  get statusListCounts(): { fetched: number; failed: number } {
    return { fetched: this.#status.fetched, failed: this.#status.failed };
  }

  /** Closes the verifier's HTTP connections. */
  async close(): Promise<void> {
    await this.#http.close();
  }

  async #check(token: string): Promise<Claims> {
    const payload = await checkSigned(this.#keys, token, {
      types: ACCESS_TOKEN_TYPES,
      wrongType: "not an access token (typ)",
      issuer: this.issuer,
      audience: this.audience,
      leewaySeconds: this.#leeway,
      requiredClaims: ["exp", "iss", "aud", "sub"],
    });
    const claims = new Claims(payload as Record<string, unknown>);
    this.#remember(token, claims);
    return claims;
  }

  async #confirm(claims: Claims, token: string, presented: Presentation): Promise<void> {
    const x5t = claims.cnf?.["x5t#S256"];
    if (x5t !== undefined) {
      if (presented.certificateDer === undefined) {
        throw new InvalidToken("token is bound to a client certificate and none was presented");
      }
      if (sha256(presented.certificateDer) !== x5t) {
        throw new InvalidToken("token is bound to another client certificate");
      }
    }
    const jkt = claims.cnf?.jkt;
    if (jkt === undefined && presented.dpopProof !== undefined) {
      throw new InvalidToken("token is not DPoP-bound; present it as a bearer token");
    }
    if (jkt !== undefined) {
      if (presented.dpopProof === undefined) {
        throw new InvalidToken("token is DPoP-bound; present it with the DPoP scheme and a proof");
      }
      if (presented.method === undefined || presented.url === undefined) {
        throw new InvalidToken("a DPoP-bound token needs the call it came with to be checked");
      }
      await this.#dpop.check(presented.dpopProof, presented.method, presented.url, token, jkt);
    }
  }

  #seenClaims(token: string): Claims | undefined {
    const entry = this.#seen.get(token);
    if (!entry) {
      return undefined;
    }
    const now = Date.now() / 1000;
    if (now >= entry.until || now + this.#leeway < entry.claims.nbf) {
      return undefined;
    }
    return entry.claims;
  }

  #remember(token: string, claims: Claims): void {
    const until = Math.min(claims.exp + this.#leeway, Date.now() / 1000 + this.#keyMaxAgeMs / 1000);
    if (this.#seen.size >= SEEN_CAPACITY) {
      const now = Date.now() / 1000;
      this.#seen = new Map([...this.#seen].filter(([, entry]) => entry.until > now));
    }
    if (this.#seen.size < SEEN_CAPACITY) {
      this.#seen.set(token, { claims, until });
    }
  }
}
