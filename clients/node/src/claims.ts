// What a verified access token says about its bearer.

/** The claims of a verified access token (RFC 9068): the standard ones as fields, any other through `get`. */
export class Claims {
  readonly iss: string;
  readonly sub: string;
  readonly clientId: string;
  readonly aud: readonly string[];
  /** Space-delimited granted scopes. */
  readonly scope: string;
  readonly scopes: readonly string[];
  readonly exp: number;
  readonly nbf: number;
  readonly iat: number;
  readonly jti: string;
  /** What the token is bound to: `{"x5t#S256": …}` or `{"jkt": …}`. */
  readonly cnf: Readonly<Record<string, string>> | undefined;
  /** Who acts for `sub` in a delegated token (RFC 8693 §4.1). */
  readonly act: Readonly<Record<string, unknown>> | undefined;
  /** The platform identity that authenticated as the client, if one did. */
  readonly federated: Readonly<Record<string, string>> | undefined;
  /** Where the token's status sits in a Token Status List. */
  readonly status: Readonly<Record<string, unknown>> | undefined;
  readonly #raw: Readonly<Record<string, unknown>>;

  constructor(raw: Record<string, unknown>) {
    this.#raw = raw;
    this.iss = String(raw.iss);
    this.sub = String(raw.sub);
    this.clientId = typeof raw.client_id === "string" ? raw.client_id : "";
    this.aud = typeof raw.aud === "string" ? [raw.aud] : ((raw.aud as string[] | undefined) ?? []);
    this.scope = typeof raw.scope === "string" ? raw.scope : "";
    this.scopes = this.scope.split(" ").filter(Boolean);
    this.exp = Number(raw.exp);
    this.nbf = typeof raw.nbf === "number" ? raw.nbf : 0;
    this.iat = typeof raw.iat === "number" ? raw.iat : 0;
    this.jti = typeof raw.jti === "string" ? raw.jti : "";
    this.cnf = raw.cnf as Claims["cnf"];
    this.act = raw.act as Claims["act"];
    this.federated = raw.federated as Claims["federated"];
    this.status = raw.status as Claims["status"];
  }

  /** Any claim by name, such as one the client's registration fixes. */
  get(name: string): unknown {
    return this.#raw[name];
  }

  toJSON(): Record<string, unknown> {
    return { ...this.#raw };
  }
}
