import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app.tsx";
import { prefetchTriage } from "./pages/triage-page.tsx";
import { startFaroWhenSettled } from "./start-faro.ts";
import { createApiClient, createQueryClient } from "./trpc.ts";
import { rangeOf } from "./url-state.ts";
import "./styles.css";

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root");
const queryClient = createQueryClient();
const trpcClient = createApiClient();
// Triage is what on-call opens: its data is asked for before the first render, not after it.
if (window.location.pathname === "/") {
  prefetchTriage(queryClient, trpcClient, rangeOf(new URLSearchParams(window.location.search)));
}
createRoot(root).render(
  <StrictMode>
    <App queryClient={queryClient} trpcClient={trpcClient} />
  </StrictMode>,
);
// Instrumentation must never delay the page: it starts once the first page's data is in.
startFaroWhenSettled(queryClient);
