#!/usr/bin/env node
// How fast the Node Verifier checks tokens on one thread: tokens never seen
// (signature and claims; one at a time, and 64 in flight as a server meets
// them) and tokens seen before (the cache, and the status
// list bit), against a tokend started here on a scratch database.
//   TOKEND_BIN=target/release/tokend node bench/node-verify.mjs
// Needs the tokend-client package built (npm ci in clients/node).

import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

import { Verifier } from "../clients/node/dist/index.js";

const TOKENS = 2000;
const binary = process.env.TOKEND_BIN ?? "target/release/tokend";
const scratch = mkdtempSync(join(tmpdir(), "node-verify-"));
const env = { ...process.env, TOKEND_DATABASE_URL: `sqlite://${scratch}/bench.db`, RUST_LOG: "warn" };
const created = execFileSync(binary, ["client", "create", "--id", "bench", "--scopes", "read", "--audience", "api", "--json"], { env });
const basic = Buffer.from(`bench:${JSON.parse(created).client_secret}`).toString("base64");
const server = spawn(binary, ["serve", "--listen", "127.0.0.1:0"], { env, stdio: ["ignore", "pipe", "inherit"] });
try {
  const [line] = await createInterface({ input: server.stdout })[Symbol.asyncIterator]().next().then(({ value }) => [value]);
  const base = `http://${line.split(/\s+/).pop()}`;
  const token = async () => {
    const answer = await fetch(`${base}/oauth/v2/token`, {
      method: "POST",
      headers: { authorization: `Basic ${basic}`, "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=client_credentials",
    });
    return (await answer.json()).access_token;
  };
  const tokens = [];
  for (let i = 0; i < TOKENS; i += 1) {
    tokens.push(await token());
  }
  const verifier = await Verifier.discover(base, "api");
  await verifier.verify(await token()); // the keys and the status list in hand
  let started = performance.now();
  for (const each of tokens) {
    await verifier.verify(each);
  }
  const first = TOKENS / ((performance.now() - started) / 1000);
  started = performance.now();
  for (let round = 0; round < 10; round += 1) {
    for (const each of tokens) {
      await verifier.verify(each);
    }
  }
  const again = (10 * TOKENS) / ((performance.now() - started) / 1000);
  // As a server meets them: 64 requests in flight, each with a token never seen.
  const fresh = [];
  for (let i = 0; i < TOKENS; i += 1) {
    fresh.push(await token());
  }
  started = performance.now();
  for (let at = 0; at < TOKENS; at += 64) {
    await Promise.all(fresh.slice(at, at + 64).map((each) => verifier.verify(each)));
  }
  const concurrent = TOKENS / ((performance.now() - started) / 1000);
  const figure = (rate) => Math.round(rate).toLocaleString("en");
  console.log(
    `node ${process.versions.node}: first sight ${figure(first)}/s (${figure(concurrent)}/s with 64 in flight), ` +
      `seen before ${figure(again)}/s ` +
      `(one thread; ${verifier.statusListCounts.fetched} status list fetch)`,
  );
  await verifier.close();
} finally {
  server.kill();
}
