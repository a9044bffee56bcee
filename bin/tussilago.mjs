#!/usr/bin/env node
// The `tussilago` command (package.json "bin"): loads the TypeScript CLI (cli/bin.ts) through the repository's tsx,
// so a checkout runs it with `npx tussilago` and `npm install -g <checkout>` links it onto the PATH, without a
// build step. tsx is resolved from this file's real location, i.e. the checkout's node_modules.
import { register } from "tsx/esm/api";

register();
await import("../cli/bin.ts");
