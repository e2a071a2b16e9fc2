// Calls to tokend over the Connect protocol (JSON bodies posted to
// /tokend.v1.Service/Method), with the administrator's token kept in this
// module's memory only: never in storage, the URL or a cookie.

let token = null;
let expiryTimer = null;
let expired = () => {};

/**
 * A refused call: Connect's code, the server's message, the OAuth reason,
 * and the request field it is about (as the contract names it), if any.
 */
export class CallError extends Error {
  constructor(code, message, reason, field = "") {
    super(message);
    this.code = code;
    this.reason = reason;
    this.field = field;
  }
}

/** What to do when the token stops working: back to sign-in. */
export function onExpired(callback) {
  expired = callback;
}

export function signedIn() {
  return token !== null;
}

export function signOut() {
  token = null;
  clearTimeout(expiryTimer);
}

function useToken(accessToken, expiresInSeconds) {
  token = accessToken;
  clearTimeout(expiryTimer);
  if (expiresInSeconds > 0) {
    expiryTimer = setTimeout(() => {
      signOut();
      expired("Your session expired. Sign in again.");
    }, expiresInSeconds * 1000);
  }
}

/** Calls `method` ("Service/Method") with `body`; the answer, or a CallError. */
/** A refused token ends the session unless `session` is false (while signing in). */
export async function call(method, body = {}, { authenticated = true, session = true } = {}) {
  const headers = { "Content-Type": "application/json", "Connect-Protocol-Version": "1" };
  if (authenticated && token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(`/tokend.v1.${method}`, {
      method: "POST", headers, body: JSON.stringify(body), cache: "no-store", credentials: "omit",
    });
  } catch (err) {
    throw new CallError("unavailable", `tokend could not be reached (${err.message}).`, "");
  }
  const text = await response.text();
  let answer = {};
  try {
    answer = text ? JSON.parse(text) : {};
  } catch {
    answer = {};
  }
  if (response.ok) return answer;
  const detail = (type) => ((answer.details || []).find((d) => d.type === type) || {}).debug || {};
  const violations = detail("google.rpc.BadRequest").fieldViolations || [];
  const error = new CallError(
    answer.code || "unknown",
    answer.message || answer.error_description || `tokend answered HTTP ${response.status}.`,
    detail("google.rpc.ErrorInfo").reason || answer.error || "",
    violations.length > 0 ? violations[0].field : "",
  );
  if (authenticated && session && error.code === "unauthenticated") {
    signOut();
    expired("Your session is no longer valid. Sign in again.");
  }
  throw error;
}

/** Signs in with an admin client's id and secret. */
export async function signInWithSecret(clientId, clientSecret) {
  const issued = await call("TokenService/IssueToken", {
    grantType: "client_credentials", clientId, clientSecret, scope: "tokend.admin",
  }, { authenticated: false });
  useToken(issued.accessToken, Number(issued.expiresIn));
}

/** Signs in with a token obtained elsewhere, once tokend accepts it for administration. */
export async function signInWithToken(accessToken) {
  token = accessToken;
  try {
    await call("ClientAdmin/ListClients", { pageSize: 1 }, { session: false });
  } catch (err) {
    signOut();
    throw err;
  }
  const payload = accessToken.split(".")[1] || "";
  let expiresIn = 0;
  try {
    const claims = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")));
    expiresIn = claims.exp - Date.now() / 1000;
  } catch {
    expiresIn = 0;
  }
  useToken(accessToken, expiresIn);
}
