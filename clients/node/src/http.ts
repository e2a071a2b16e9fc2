// GETs and POSTs for the verifier and the token source, over HTTP or HTTPS
// with a CA of the caller's and, for mutual TLS, a client certificate.

import { Agent, fetch, type Response } from "undici";

import { unavailable } from "./invalidToken.js";

/** How long one request may take. */
export const FETCH_TIMEOUT_MS = 5_000;

/** TLS settings for HTTPS: PEM text (or buffers) as `node:tls` takes them. */
export interface TlsOptions {
  /** CAs to trust instead of the system's. */
  ca?: string | Buffer;
  /** A client certificate and its key, for mutual TLS. */
  cert?: string | Buffer;
  key?: string | Buffer;
}

export class Http {
  readonly #agent: Agent | undefined;

  constructor(tls: TlsOptions = {}) {
    const { ca, cert, key } = tls;
    this.#agent = ca || cert ? new Agent({ connect: { ca, cert, key } }) : undefined;
  }

  /** One request; its network failures become `temporarily_unavailable`. */
  async request(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Response> {
    try {
      return await fetch(url, { ...init, dispatcher: this.#agent, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    } catch (error) {
      throw unavailable(`${init.method ?? "GET"} ${url}: ${(error as Error).cause ?? error}`);
    }
  }

  /** The body of a successful GET. */
  async get(url: string, accept: string): Promise<string> {
    const answer = await this.request(url, { headers: { accept } });
    if (!answer.ok) {
      throw unavailable(`GET ${url}: HTTP ${answer.status}`);
    }
    return answer.text();
  }

  async getJson(url: string): Promise<Record<string, unknown>> {
    const body = await this.get(url, "application/json");
    try {
      return JSON.parse(body) as Record<string, unknown>;
    } catch {
      throw unavailable(`GET ${url}: not JSON`);
    }
  }

  async close(): Promise<void> {
    await this.#agent?.close();
  }
}
