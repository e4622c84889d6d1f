import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerUiRoutes } from "./ui-routes.ts";

describe("the built UI at /", () => {
  const app = Fastify();
  let dist = "";
  beforeAll(async () => {
    dist = await mkdtemp(join(tmpdir(), "faultline-web-dist-"));
    await mkdir(join(dist, "assets"));
    await writeFile(join(dist, "index.html"), "<!doctype html><div id=root></div>");
    await writeFile(join(dist, "assets", "index-AbC123.js"), "console.log(1)");
    app.get("/api/v1/things", async () => ({ ok: true }));
    await registerUiRoutes(app, { webDist: dist });
  });
  afterAll(async () => {
    await app.close();
    await rm(dist, { recursive: true, force: true });
  });

  it("serves index.html at / and at client routes, revalidated on every load", async () => {
    for (const url of ["/", "/incidents/inc_1", "/services/dm-api?range=6h"]) {
      const response = await app.inject({ url, headers: { accept: "text/html,*/*" } });
      expect(response.statusCode, url).toBe(200);
      expect(response.body).toContain("<div id=root>");
      expect(response.headers["cache-control"]).toBe("no-cache");
    }
  });

  it("caches hashed assets for a year as immutable", async () => {
    const response = await app.inject({ url: "/assets/index-AbC123.js" });
    expect(response.statusCode).toBe(200);
    expect(response.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
  });

  it("answers unknown API paths and missing assets with a JSON 404, not the page", async () => {
    for (const url of ["/api/v1/nope", "/trpc/nope", "/assets/missing.js"]) {
      const response = await app.inject({ url, headers: { accept: "text/html" } });
      expect(response.statusCode, url).toBe(404);
      expect(response.headers["content-type"]).toContain("application/json");
    }
    expect((await app.inject({ url: "/api/v1/things" })).json()).toEqual({ ok: true });
  });
});

describe("without a built UI", () => {
  it("explains at / how to build it", async () => {
    const app = Fastify();
    await registerUiRoutes(app, { webDist: join(tmpdir(), "faultline-no-such-dist") });
    const response = await app.inject({ url: "/" });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain("npm run build -w @faultline/web");
    await app.close();
  });
});
