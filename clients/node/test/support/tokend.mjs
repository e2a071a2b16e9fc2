// A live tokend for the tests: the real binary (TOKEND_BIN, or the debug
// build under CARGO_TARGET_DIR or the repository's target/) on a scratch
// SQLite database, with clients made by its CLI.

import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

const repo = resolve(import.meta.dirname, "..", "..", "..", "..");

export function tokendBinary() {
  return process.env.TOKEND_BIN ?? join(process.env.CARGO_TARGET_DIR ?? join(repo, "target"), "debug", "tokend");
}

/**
 * Starts tokend with `serveArgs` on a new database and resolves to
 * { address, base, cli(...args), create(...args) → secret, stop() }.
 */
export async function startTokend(serveArgs = []) {
  const binary = tokendBinary();
  const scratch = mkdtempSync(join(tmpdir(), "tokend-node-"));
  const env = { ...process.env, TOKEND_DATABASE_URL: `sqlite://${join(scratch, "tokend.db")}`, RUST_LOG: "warn" };
  const cli = (...args) => execFileSync(binary, args, { env, encoding: "utf8" });
  const create = (...args) => JSON.parse(cli("client", "create", ...args, "--json")).client_secret;
  const server = spawn(binary, ["serve", "--listen", "127.0.0.1:0", ...serveArgs], { env, stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: server.stdout });
  const first = await new Promise((ok, fail) => {
    lines.once("line", ok);
    server.once("error", fail);
    server.once("exit", (code) => fail(new Error(`tokend exited with ${code}`)));
  });
  const address = first.split(/\s+/).pop();
  const scheme = serveArgs.includes("--tls-cert") ? "https" : "http";
  return {
    address,
    base: `${scheme}://${address}`,
    cli,
    create,
    async stop() {
      server.kill("SIGTERM");
      await new Promise((ok) => (server.exitCode === null ? server.once("exit", ok) : ok()));
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/** The decoded payload of a JWT, unverified. */
export function claimsOf(token) {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
}
