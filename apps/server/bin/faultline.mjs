#!/usr/bin/env node
// The workspace bin. TypeScript sources run directly through tsx's loader, so `npx faultline`
// works right after `npm install` with no build step.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli.ts");
await main(process.argv);
