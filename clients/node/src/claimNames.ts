// RFC 7519 §4: the claim names of a JWT are unique. JSON.parse keeps the
// last of two same-named members, so a second `sub` or `status` would
// override the first; tokend's verifiers refuse such a token instead.

/** Whether the payload of the compact JWS `token` is a JSON object naming each member once. */
export function claimNamesAreUnique(token: string): boolean {
  const parts = token.split(".");
  if (parts.length !== 3) {
    return false;
  }
  const json = Buffer.from(parts[1], "base64url").toString("utf8");
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return false;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    return false;
  }
  const names = topLevelNames(json);
  return new Set(names).size === names.length;
}

/** The member names of the object `json` (valid JSON), decoded, duplicates kept. */
function topLevelNames(json: string): string[] {
  const names: string[] = [];
  let depth = 0;
  let expectName = false;
  for (let at = 0; at < json.length; at++) {
    const c = json[at];
    if (c === '"') {
      let end = at + 1;
      while (json[end] !== '"') {
        end += json[end] === "\\" ? 2 : 1;
      }
      if (depth === 1 && expectName) {
        names.push(JSON.parse(json.slice(at, end + 1)) as string);
        expectName = false;
      }
      at = end;
    } else if (c === "{" || c === "[") {
      depth += 1;
      expectName = depth === 1;
    } else if (c === "}" || c === "]") {
      depth -= 1;
    } else if (c === "," && depth === 1) {
      expectName = true;
    }
  }
  return names;
}
