// A DPoP-bound token from tokend with oauth4webapi (npm), a DPoP client
// library tokend has no part in, used as its documentation shows: discovery,
// a key pair, the client-credentials grant with a DPoP handle. Prints the
// token type and the token's cnf.jkt next to the key's own thumbprint.
//   node oauth4webapi.mjs BASE CLIENT_ID CLIENT_SECRET
import * as oauth from "oauth4webapi";

const [base, clientId, secret] = process.argv.slice(2);
const issuer = new URL(base);
const options = { [oauth.allowInsecureRequests]: true }; // the recipe's server is plain HTTP on loopback
const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, options));
const client = { client_id: clientId };
const keyPair = await oauth.generateKeyPair("ES256");
const DPoP = oauth.DPoP(client, keyPair);
const grant = () => oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(secret),
  new URLSearchParams({ scope: "orders.read" }), { ...options, DPoP });
let response = await grant();
let result;
try {
  result = await oauth.processClientCredentialsResponse(as, client, response);
} catch (err) {
  if (!oauth.isDPoPNonceError(err)) throw err;
  result = await oauth.processClientCredentialsResponse(as, client, await grant());
}
const payload = JSON.parse(Buffer.from(result.access_token.split(".")[1], "base64url"));
// RFC 7638: the required members in lexicographic order, SHA-256, base64url.
const { crv, kty, x, y } = await crypto.subtle.exportKey("jwk", keyPair.publicKey);
const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify({ crv, kty, x, y })));
console.log(result.token_type, payload.cnf.jkt, Buffer.from(digest).toString("base64url"));
