import { defineConfig } from "drizzle-kit";

// Migrations are generated from the schema and committed; createDb() applies them at start.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/schema/index.ts",
  out: "./drizzle",
});
