// Manual tool: `npx tsx e2e/run-story-server.ts [story] [port]` serves the built UI with a story
// replayed into a throwaway database, for looking at the pages by hand. Ctrl-C stops it.
import { fileURLToPath } from "node:url";
import type { StoryName } from "@faultline/demo";
import { serveWithStory } from "./serve-with-story.ts";

const story = (process.argv[2] ?? "dm-canary") as StoryName;
const port = Number(process.argv[3] ?? 3950);
const served = await serveWithStory({
  story,
  port,
  webDist: fileURLToPath(new URL("../dist", import.meta.url)),
});
console.log(`ready: ${served.apiUrl} (story ${story})`);
process.on("SIGINT", () => void served.close().then(() => process.exit(0)));
process.on("SIGTERM", () => void served.close().then(() => process.exit(0)));
