// The package's build, run by `prepare` (so `npm install ./clients/node`
// from anywhere builds it): installs the package's own dependencies when
// they are missing (npm links a folder without installing them), copies
// tokend's protobuf contract into dist/proto (TOKEND_PROTO_DIR names another
// copy), and compiles the TypeScript sources with tsc.

import { execFileSync } from "node:child_process";
import { cpSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const run = (command, args) => execFileSync(command, args, { cwd: root, stdio: "inherit" });

const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
if (!existsSync(tsc)) {
  run("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"]);
}
const contract = resolve(process.env.TOKEND_PROTO_DIR ?? join(root, "..", "..", "proto"));
if (!existsSync(join(contract, "tokend", "v1", "token_service.proto"))) {
  console.error(`no tokend/v1/token_service.proto under ${contract}; set TOKEND_PROTO_DIR`);
  process.exit(1);
}
cpSync(join(contract, "tokend"), join(root, "dist", "proto", "tokend"), { recursive: true });
run(process.execPath, [tsc, "-p", "tsconfig.json"]);
