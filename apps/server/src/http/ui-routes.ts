import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { ApiApp } from "./health-routes.ts";

/** apps/web/dist of this checkout, where `npm run build -w @faultline/web` writes the UI. */
export const defaultWebDist = resolve(dirname(fileURLToPath(import.meta.url)), "../../../web/dist");

/** Paths the SPA fallback never answers with index.html: the API, and assets (a stale hash must 404). */
const apiPrefixes = ["/api/", "/trpc/", "/assets/", "/healthz", "/readyz"];

/**
 * Serves the built UI at `/`. Vite names assets by content hash, so `/assets/*` is cached for a year
 * as immutable; `index.html` (which names the current hashes) must be revalidated on every load. Any
 * other GET that accepts HTML gets index.html, so client routes (`/incidents/…`) are shareable URLs.
 */
export async function registerUiRoutes(app: ApiApp, options: { webDist: string | undefined }): Promise<void> {
  const root = resolve(options.webDist ?? defaultWebDist);
  const built = existsSync(join(root, "index.html"));
  if (!built) {
    app.log.warn({ root }, "UI not built; / explains how to build it");
    app.get("/", async (_request, reply) =>
      reply
        .type("text/html; charset=utf-8")
        .header("cache-control", "no-store")
        .send(
          '<!doctype html><title>Faultline</title><body style="font-family:sans-serif;background:#111;color:#eee">' +
            "<h1>Faultline</h1><p>The UI is not built. Run <code>npm run build -w @faultline/web</code> " +
            '(<code>npm start</code> does it for you), then reload.</p><p>The API is up: <a href="/healthz" ' +
            'style="color:#8cf">/healthz</a>.</p></body>',
        ),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root,
    index: false,
    // Our own headers only (setHeaders): the plugin's default max-age=0 would fight them.
    cacheControl: false,
    setHeaders: (res, path) => {
      res.setHeader(
        "cache-control",
        path.includes(`${join(root, "assets")}`) ? "public, max-age=31536000, immutable" : "no-cache",
      );
    },
  });
  const sendIndex = (
    _request: unknown,
    reply: { header(name: string, value: string): unknown; sendFile(file: string): unknown },
  ) => {
    reply.header("cache-control", "no-cache");
    return reply.sendFile("index.html");
  };
  // `/` is a directory to the static plugin (403 without an index); it is the triage page.
  app.get("/", sendIndex);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0] ?? "/";
    const wantsHtml = (request.headers.accept ?? "").includes("text/html");
    if (request.method === "GET" && wantsHtml && !apiPrefixes.some((prefix) => path.startsWith(prefix))) {
      return sendIndex(request, reply);
    }
    return reply.code(404).send({ error: "not found", path });
  });
}
