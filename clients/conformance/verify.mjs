// The shared cases through the Node verifier, as a service built on it meets
// them: the `Authorization` and `DPoP` headers of a call, the caller's
// certificate, the scopes the call needs.
//   node verify.mjs CASES RESULTS [path/to/tokend-client]

import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [casesPath, resultsPath, packageDir = resolve(import.meta.dirname, "..", "node")] = process.argv.slice(2);
const { InvalidToken, Verifier, verifyCall } = await import(pathToFileURL(resolve(packageDir, "dist", "index.js")).href);

const cases = JSON.parse(readFileSync(casesPath, "utf8"));
const { settings } = cases;
const verifier = await Verifier.discover(cases.issuer, cases.audience, {
  leewaySeconds: settings.leeway_seconds,
  refetchIntervalMs: settings.refetch_interval_seconds * 1000,
  dpopProofMaxAgeSeconds: settings.dpop_proof_max_age_seconds,
});

async function present(testCase, token) {
  const call = {
    authorization: `${testCase.scheme} ${token}`,
    proofs: testCase.dpop_proof === undefined ? [] : [testCase.dpop_proof],
    method: testCase.method,
    url: testCase.url,
    certificateDer: testCase.certificate === undefined ? undefined : Buffer.from(testCase.certificate, "base64"),
  };
  try {
    await verifyCall(verifier, call, testCase.scopes);
    return { error: "ok", description: "" };
  } catch (error) {
    if (!(error instanceof InvalidToken)) {
      throw error;
    }
    return { error: error.error, description: error.description };
  }
}

const results = {};
for (const testCase of cases.cases) {
  const token = testCase.token_from ? await (await fetch(testCase.token_from, { method: "POST" })).text() : testCase.token;
  results[testCase.name] = [];
  for (const _ of testCase.expect) {
    results[testCase.name].push(await present(testCase, token));
  }
}
writeFileSync(resultsPath, JSON.stringify(results, null, 2));
await verifier.close();
