#!/usr/bin/env -S node --max-semi-space-size=64
// Entry point of the `berth` command: loads the TypeScript sources through tsx.
import { register } from "tsx/esm/api";

// The AWS SDK Berth pins warns that its later releases need Node 22; Berth's users need not see it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
register();
await import("../services/cli/main.ts");
