// End-to-end tests of the admin console: the real page in Debian's headless
// Chromium, driven by playwright-core, against a live tokend on a scratch
// database. Screenshots of every page at 1280 and 390 px go to $SCREENSHOTS.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";

const TOKEND = process.env.TOKEND_BIN;
const SCREENSHOTS = process.env.SCREENSHOTS || "screenshots";
const XSS_NAME = "<img src=x onerror=alert(1)>";

let scratch, server, base, browser, adminSecret;
let output = "";
/** What the server has logged so far. */
const log = () => output;

function tokendCli(...args) {
  return execFileSync(TOKEND, args, { env: { ...process.env, TOKEND_DATABASE_URL: `sqlite://${scratch}/console.db`, RUST_LOG: "warn" } }).toString();
}

/** A token request with curl, as a service would make it. */
function curlToken(clientId, secret, scope = "") {
  const form = ["-d", "grant_type=client_credentials", ...(scope ? ["-d", `scope=${scope}`] : [])];
  const out = execFileSync("curl", ["-s", "-w", "\n%{http_code}", "-u", `${clientId}:${secret}`, ...form, `${base}/oauth/v2/token`]).toString();
  const [body, status] = out.trimEnd().split("\n");
  return { status: Number(status), body: JSON.parse(body) };
}

before(async () => {
  assert.ok(TOKEND, "TOKEND_BIN names the tokend binary");
  mkdirSync(SCREENSHOTS, { recursive: true });
  scratch = mkdtempSync(join(tmpdir(), "tokend-console-"));
  adminSecret = JSON.parse(tokendCli("client", "create", "--id", "ops-admin", "--scopes", "tokend.admin",
    "--default-scopes", "tokend.admin", "--json")).client_secret;
  // Neighbours, so the clients page shows a few.
  tokendCli("client", "create", "--id", "orders-worker", "--display-name", "Orders worker", "--scopes", "orders.read orders.write",
    "--default-scopes", "orders.read", "--audience", "orders");
  tokendCli("client", "create", "--id", "payments-api", "--display-name", "Payments API", "--scopes", "payments.charge",
    "--audience", "payments", "--client-secret-max-age", "90d");
  server = spawn(TOKEND, ["serve", "--listen", "127.0.0.1:0"], {
    env: { ...process.env, TOKEND_DATABASE_URL: `sqlite://${scratch}/console.db`, RUST_LOG: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  base = await new Promise((resolve, reject) => {
    const seen = (chunk) => {
      output += chunk;
      const found = output.match(/listening on ([0-9.:]+)/);
      if (found) resolve(`http://${found[1]}`);
    };
    server.stdout.on("data", seen);
    server.stderr.on("data", seen);
    server.on("exit", (code) => reject(new Error(`tokend exited (${code}): ${output}`)));
    setTimeout(() => reject(new Error(`tokend did not start: ${output}`)), 20000);
  });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  server?.kill();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** A fresh tab at `width`, failing the test on any script error or alert. */
async function open(width) {
  const context = await browser.newContext({ viewport: { width, height: width > 600 ? 900 : 844 } });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (err) => problems.push(`script error: ${err.message}`));
  page.on("response", (response) => {
    if (response.status() === 404) problems.push(`not found: ${response.url()}`);
  });
  page.on("dialog", (dialog) => {
    problems.push(`a ${dialog.type()} opened: ${dialog.message()}`);
    dialog.dismiss();
  });
  await page.goto(`${base}/console/`);
  return { page, context, problems };
}

/** Signs in as the README's admin would, with the keyboard alone. */
async function signIn(page) {
  await page.getByLabel("Admin client ID").waitFor();
  await page.keyboard.type("ops-admin");
  await page.keyboard.press("Tab");
  await page.keyboard.type(adminSecret);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Clients", level: 1 }).waitFor();
}

/** A fresh 1280 px tab, signed in, at the page `hash` names. */
async function signedInAt(hash) {
  const tab = await open(1280);
  await signIn(tab.page);
  await tab.page.goto(`${base}/console/${hash}`);
  return tab;
}

const shot = (page, name, width) => page.screenshot({ path: join(SCREENSHOTS, `${name}-${width}.png`), fullPage: true });

test("the console is served with a strict policy and no inline script", async () => {
  const response = await fetch(`${base}/console/`);
  assert.equal(response.status, 200);
  const policy = response.headers.get("content-security-policy");
  assert.match(policy, /script-src 'self'/);
  assert.match(policy, /frame-ancestors 'none'/);
  assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval/);
  assert.equal(response.headers.get("x-frame-options"), "DENY");
  const html = await response.text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, "every script is a file");
  assert.equal((await fetch(`${base}/console/app.js`)).headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal((await fetch(`${base}/console/nope.js`)).status, 404);
  // The page names its icon, so browsers do not ask for /favicon.ico (a 404 on every load).
  assert.match(html, /<link rel="icon" href="favicon.svg"/);
  const icon = await fetch(`${base}/console/favicon.svg`);
  assert.equal(icon.status, 200);
  assert.equal(icon.headers.get("content-type"), "image/svg+xml");
});

test("a wrong secret at sign-in is told, and nothing else happens", async () => {
  const { page, context, problems } = await open(1280);
  await page.getByLabel("Admin client ID").fill("ops-admin");
  await page.getByLabel("Client secret").fill("not-the-secret");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByText("Sign-in failed: the client ID or secret is wrong.").waitFor();
  assert.equal(await page.locator("#nav").isHidden(), true);
  await shot(page, "signin-error", 1280);
  assert.deepEqual(problems, []);
  await context.close();
});

test("an administrator registers, edits, rotates, disables and deletes a client", async () => {
  const { page, context, problems } = await open(1280);
  await signIn(page);

  // New client, with a display name that would be markup if inserted as HTML.
  await page.getByRole("link", { name: "New client", exact: true }).first().click();
  await page.getByLabel("Client ID").fill("billing-api");
  await page.getByLabel("Display name").fill(XSS_NAME);
  await page.getByLabel("Allowed scopes").fill("invoices.read");
  await page.getByLabel("Audiences").fill("invoices");
  await page.getByRole("button", { name: "Create client" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByText("It cannot be shown again").waitFor();
  const secret = (await page.locator("#new-secret").textContent()).trim();
  assert.match(secret, /^tokend_/);
  await shot(page, "new-client-secret", 1280);
  await dialog.getByRole("button", { name: /close/ }).click();
  await page.getByRole("heading", { name: "billing-api", level: 1 }).waitFor();
  assert.equal(await page.locator("#new-secret").count(), 0, "closing the dialog removes the secret");
  assert.ok(!(await page.content()).includes(secret));

  // The secret works for a token, from outside the browser.
  const first = curlToken("billing-api", secret);
  assert.equal(first.status, 200, JSON.stringify(first.body));

  // The display name shows as the characters it is, here and in the list.
  await page.locator("dd", { hasText: XSS_NAME }).waitFor();
  assert.equal(await page.locator("img").count(), 0);
  await shot(page, "client", 1280);
  await page.getByRole("link", { name: "← All clients" }).click();
  await page.getByRole("cell", { name: XSS_NAME }).waitFor();
  assert.equal(await page.locator("img").count(), 0);
  await shot(page, "clients", 1280);
  await page.getByLabel("Client ID starts with").fill("pay");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByText("Clients whose ID starts with “pay”").waitFor();
  assert.deepEqual(await page.locator("tbody tr td:first-child").allTextContents(), ["payments-api"]);
  await page.getByLabel("Client ID starts with").fill("");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByText("All clients").waitFor();
  await page.getByRole("link", { name: "billing-api" }).click();
  await page.getByRole("heading", { name: "billing-api", level: 1 }).waitFor();

  // An invalid scope is refused next to the scopes field, naming the scope.
  const scopes = page.getByLabel("Allowed scopes");
  await scopes.fill('invoices.read bad"scope');
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByText(/scope "bad\\"scope" is not a valid scope/).waitFor();
  assert.equal(await scopes.getAttribute("aria-invalid"), "true");
  await scopes.fill("invoices.read invoices.write");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByText("Saved: 1 field changed.").waitFor();
  assert.equal(curlToken("billing-api", secret, "invoices.write").status, 200);

  // Claims added to its tokens: not JSON is said before any call, a reserved name by the server, both under the field.
  const claimsField = page.getByLabel("Claims");
  const claimsError = page.locator(".field", { has: claimsField }).locator(".error");
  await claimsField.fill("tenant=acme");
  await page.getByRole("button", { name: "Save changes" }).click();
  await claimsError.getByText("Claims must be a JSON object").waitFor();
  await claimsField.fill('{"iss": "https://evil.example"}');
  await page.getByRole("button", { name: "Save changes" }).click();
  await claimsError.getByText(/claims may not set "iss"/).waitFor();
  await claimsField.fill('{"tenant": "acme", "tier": 2}');
  await page.getByLabel("Token exchange audiences").fill("billing-api");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByText("Saved: 2 fields changed.").waitFor();
  const withClaims = curlToken("billing-api", secret);
  const payload = JSON.parse(Buffer.from(withClaims.body.access_token.split(".")[1], "base64url").toString());
  assert.equal(payload.tenant, "acme");
  assert.equal(payload.tier, 2);
  assert.equal(JSON.parse(await claimsField.inputValue()).tenant, "acme", "the form shows the claims it has");

  // A runaway client limited from the console: a burst without a rate is refused by the burst field,
  // then one token a second holds, and clearing the limit lifts it.
  await page.getByLabel("Burst").fill("5");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.locator(".field", { has: page.getByLabel("Burst") }).getByText(/rate_limit_burst needs a rate_limit_per_second/).waitFor();
  await page.getByLabel("Rate limit (tokens per second)").fill("1");
  await page.getByLabel("Burst").fill("1");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByText("Saved: 2 fields changed.").waitFor();
  await page.locator("dd", { hasText: "1/s, burst 1" }).waitFor();
  const limited = [curlToken("billing-api", secret), curlToken("billing-api", secret)];
  assert.equal(limited[1].status, 429, JSON.stringify(limited.map((r) => r.body)));
  assert.equal(limited[1].body.error, "too_many_requests");
  await page.getByLabel("Rate limit (tokens per second)").fill("");
  await page.getByLabel("Burst").fill("");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByText("Saved: 2 fields changed.").waitFor();
  assert.equal(curlToken("billing-api", secret).status, 200);

  // Rotation shows the new secret once; the old one keeps working within the grace period.
  await page.getByLabel(/Grace period/).fill("600");
  await page.getByRole("button", { name: "Rotate secret" }).click();
  await dialog.getByText("It cannot be shown again").waitFor();
  const rotated = (await page.locator("#new-secret").textContent()).trim();
  assert.notEqual(rotated, secret);
  await dialog.getByRole("button", { name: /close/ }).click();
  await page.getByText("Secret rotated.").waitFor();
  assert.equal(await page.locator("tbody tr", { has: page.locator("code") }).count(), 2, "two secrets listed");
  assert.equal(curlToken("billing-api", rotated).status, 200);
  assert.equal(curlToken("billing-api", secret).status, 200);

  // Disabled: the client's next token request fails.
  await page.getByRole("button", { name: "Disable client" }).click();
  await page.getByText(/^Disabled:/).waitFor();
  const refused = curlToken("billing-api", rotated);
  assert.equal(refused.status, 401, JSON.stringify(refused.body));
  await page.getByRole("button", { name: "Enable client" }).waitFor();

  // Deleting needs the client id typed out.
  const remove = page.getByRole("button", { name: "Delete client" });
  assert.equal(await remove.isDisabled(), true);
  await page.getByLabel("Type billing-api to confirm").fill("billing-ap");
  assert.equal(await remove.isDisabled(), true);
  await page.getByLabel("Type billing-api to confirm").fill("billing-api");
  await remove.click();
  await page.getByRole("heading", { name: "Clients", level: 1 }).waitFor();
  await page.getByRole("cell", { name: "ops-admin" }).waitFor();
  assert.equal(await page.getByRole("link", { name: "billing-api" }).count(), 0);

  // The audit trail saw all of it, and the keys page lists the signing key.
  await page.getByRole("link", { name: "Audit trail" }).click();
  await page.getByRole("cell", { name: "client_deleted" }).waitFor();
  await page.getByRole("cell", { name: "secret_rotated" }).waitFor();
  await page.getByLabel("Client ID").fill("billing-api");
  await page.getByLabel("Type").selectOption("secret_rotated");
  await page.getByRole("button", { name: "Show" }).click();
  await page.getByText("Events: secret_rotated of billing-api").waitFor();
  assert.deepEqual(await page.locator("tbody tr td:nth-child(2)").allTextContents(), ["secret_rotated"]);
  await page.getByLabel("Type").selectOption("");
  await page.getByRole("button", { name: "Show" }).click();
  await page.getByRole("cell", { name: "client_deleted" }).waitFor();
  await shot(page, "events", 1280);
  await page.getByRole("link", { name: "Signing keys" }).click();
  await page.getByRole("cell", { name: "signing", exact: true }).waitFor();
  await shot(page, "keys", 1280);

  // Nothing secret outside memory: storage, the address, the server's log.
  const stored = await page.evaluate(() => localStorage.length + sessionStorage.length + document.cookie.length);
  assert.equal(stored, 0);
  assert.ok(!page.url().includes(secret) && !page.url().includes(adminSecret));
  for (const value of [secret, rotated, adminSecret]) assert.ok(!log().includes(value), "no secret in the server's log");
  assert.deepEqual(problems, []);

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByText("You are signed out.").waitFor();
  await context.close();
});

test("a client with a certificate or a key is registered without a secret, and moved to a secret", async () => {
  const { page, context, problems } = await signedInAt("#/new");
  await page.getByLabel("Client ID").fill("mesh-worker");
  await page.getByLabel("Allowed scopes").fill("mesh.read");
  const certificateName = page.getByLabel("Certificate name", { exact: true });
  assert.equal(await certificateName.isHidden(), true, "a secret client needs no certificate");
  await page.getByLabel("TLS client certificate").check();
  assert.equal(await certificateName.isVisible(), true);
  assert.equal(await page.getByLabel("JWKS URI").isHidden(), true);

  // Nothing named: refused next to the certificate name.
  await page.getByRole("button", { name: "Create client" }).click();
  await page.locator(".field", { has: certificateName }).getByText(/tls_client_auth needs one of/).waitFor();
  assert.equal(await certificateName.getAttribute("aria-invalid"), "true");

  await certificateName.fill("spiffe://example.org/mesh-worker");
  await page.getByLabel("Bind its tokens to the certificate").check();
  await shot(page, "new-client-certificate", 1280);
  await page.getByRole("button", { name: "Create client" }).click();
  await page.getByRole("heading", { name: "mesh-worker", level: 1 }).waitFor();
  assert.equal(await page.getByRole("dialog").count(), 0, "no secret to show");
  await page.getByText("This client has no secret (it authenticates another way).").waitFor();
  await page.locator("dd", { hasText: "spiffe://example.org/mesh-worker" }).waitFor();
  const listed = JSON.parse(tokendCli("client", "list", "--json")).find((c) => c.client_id === "mesh-worker");
  assert.deepEqual(listed.token_endpoint_auth_methods, ["tls_client_auth"]);
  assert.equal(listed.tls_client_certificate_bound_access_tokens, true);

  // Edited: another name on the certificate, tokens no longer bound.
  await page.getByLabel("Kind of name").selectOption({ label: "DNS SAN" });
  await page.getByLabel("Certificate name", { exact: true }).fill("mesh.example.org");
  await page.getByLabel("Bind its tokens to the certificate").uncheck();
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByText("Saved: 1 field changed.").waitFor();
  await page.locator("dd", { hasText: "mesh.example.org" }).waitFor();
  assert.equal(await page.locator("dd", { hasText: "spiffe://" }).count(), 0, "the URI SAN is gone");
  const edited = JSON.parse(tokendCli("client", "list", "--json")).find((c) => c.client_id === "mesh-worker");
  assert.equal(edited.tls_client_certificate_bound_access_tokens, false);

  // Moved to a secret: it has none until one is rotated in, which then gets tokens.
  await page.getByLabel("Client secret").check();
  assert.equal(await page.getByLabel("Certificate name", { exact: true }).isHidden(), true);
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByText("It has no secret yet: rotate one below.").waitFor();
  await page.getByRole("button", { name: "Rotate secret" }).click();
  await page.getByRole("dialog").getByText("It cannot be shown again").waitFor();
  const meshSecret = (await page.locator("#new-secret").textContent()).trim();
  await page.getByRole("dialog").getByRole("button", { name: /close/ }).click();
  assert.equal(curlToken("mesh-worker", meshSecret).status, 200);

  // DPoP required: every token request must now carry a proof.
  await page.getByLabel("Require DPoP: bind its tokens to a key it holds (RFC 9449)").check();
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.locator("dt", { hasText: "DPoP-bound tokens" }).waitFor();
  const dpopBound = JSON.parse(tokendCli("client", "list", "--json")).find((c) => c.client_id === "mesh-worker");
  assert.equal(dpopBound.dpop_bound_access_tokens, true);
  assert.equal(curlToken("mesh-worker", meshSecret).status, 400, "no proof, no token");

  // A key-signing client: its JWKS URI must be https, said next to it.
  await page.goto(`${base}/console/#/new`);
  await page.getByLabel("Client ID").fill("signer");
  await page.getByLabel("Signed assertions").check();
  const jwksUri = page.getByLabel("JWKS URI");
  await jwksUri.fill("http://keys.example/signer.json");
  await page.getByRole("button", { name: "Create client" }).click();
  await page.locator(".field", { has: jwksUri }).getByText(/must use https/).waitFor();
  await jwksUri.fill("https://keys.example/signer.json");
  await page.getByRole("button", { name: "Create client" }).click();
  await page.getByRole("heading", { name: "signer", level: 1 }).waitFor();
  await page.locator("dd", { hasText: "private_key_jwt" }).waitFor();
  assert.equal(await page.getByLabel("JWKS URI").inputValue(), "https://keys.example/signer.json", "the edit form starts from it");
  assert.deepEqual(problems, []);
  await context.close();
});

test("a duplicate client id is said next to the id", async () => {
  const { page, context, problems } = await signedInAt("#/new");
  await page.getByLabel("Client ID").fill("ops-admin");
  await page.getByRole("button", { name: "Create client" }).click();
  const idError = page.locator(".field", { has: page.getByLabel("Client ID") }).locator(".error");
  await idError.getByText(/already exists.*Choose another client ID/).waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});

test("a token that stops working sends the user back to sign-in", async () => {
  const admin = curlToken("ops-admin", adminSecret);
  const { page, context } = await open(1280);
  await page.getByText("Sign in with a token instead").click();
  await page.getByLabel("Access token").fill(admin.body.access_token);
  await page.getByRole("button", { name: "Sign in with token" }).click();
  await page.getByRole("heading", { name: "Clients", level: 1 }).waitFor();
  execFileSync("curl", ["-sf", "-u", `ops-admin:${adminSecret}`, "-d", `token=${admin.body.access_token}`, `${base}/oauth/v2/revoke`]);
  await page.getByRole("link", { name: "Signing keys" }).click();
  await page.getByText("Your session is no longer valid. Sign in again.").waitFor();
  assert.equal(await page.getByLabel("Admin client ID").isVisible(), true);
  await context.close();
});

test("at 390 px wide every page fits the screen", async () => {
  const { page, context, problems } = await open(390);
  await shot(page, "signin", 390);
  await signIn(page);
  const fits = async (name) => {
    await shot(page, name, 390);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `${name} is ${width} px wide`);
  };
  await page.goto(`${base}/console/#/clients`);
  await page.getByRole("link", { name: "orders-worker" }).waitFor();
  await fits("clients");
  await page.getByRole("link", { name: "orders-worker" }).click();
  await page.getByRole("heading", { name: "orders-worker", level: 1 }).waitFor();
  await fits("client");
  await page.goto(`${base}/console/#/new`);
  await page.getByLabel("Client ID").waitFor();
  await fits("new-client");
  await page.getByLabel("Client ID").fill("mobile-made");
  await page.getByRole("button", { name: "Create client" }).click();
  await page.getByRole("dialog").getByText("It cannot be shown again").waitFor();
  await fits("new-client-secret");
  await page.goto(`${base}/console/#/events`);
  await page.getByRole("cell", { name: "client_created" }).first().waitFor();
  await shot(page, "events", 390);
  await page.goto(`${base}/console/#/keys`);
  await page.getByRole("cell", { name: "ES256" }).waitFor();
  await shot(page, "keys", 390);
  assert.deepEqual(problems, []);
  await context.close();
});
