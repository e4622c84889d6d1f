import type { QueryClient } from "@tanstack/react-query";

declare const __FARO_THROUGH_DEV_PROXY__: boolean;

/** However long the first page's queries take, instrumentation starts after this long at most. */
const maxFaroDelayMs = 10_000;

/**
 * Starts Faro once the queries of the first page have all settled and the browser is idle (or after
 * 10 s): loading and starting the SDK (a third of the code) and its first reports would otherwise
 * compete with the page's own requests and rendering for the main thread and the server.
 */
export function startFaroWhenSettled(queryClient: QueryClient): void {
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    unsubscribe();
    clearTimeout(timer);
    const idle = window.requestIdleCallback ?? ((run: () => void) => window.setTimeout(run, 200));
    idle(() => void startFaro());
  };
  const settled = () => queryClient.isFetching() === 0;
  const unsubscribe = queryClient.getQueryCache().subscribe(() => {
    if (settled()) start();
  });
  // A page without queries starts it after the longest wait.
  const timer = window.setTimeout(start, maxFaroDelayMs);
}

/**
 * The UI reports its own page loads, web vitals and errors to Faultline's Faro receiver, so a broken
 * UI shows up in Faultline like any other browser app. The server says where the receiver is
 * (`config.get`: the OTLP port at the host the browser used); in `vite` dev mode the dev server
 * proxies `/collect`. Failing to start is not worth an error on the page.
 */
export async function startFaro(): Promise<void> {
  try {
    const response = await fetch("/trpc/config.get");
    if (!response.ok) return;
    const body = (await response.json()) as { result?: { data?: { faroCollectorUrl?: string | null } } };
    const url = __FARO_THROUGH_DEV_PROXY__ ? "/collect" : body.result?.data?.faroCollectorUrl;
    if (!url) return;
    // Loaded after the first render, in its own chunk: the SDK is a third of the bundle.
    const { getWebInstrumentations, initializeFaro } = await import("@grafana/faro-web-sdk");
    initializeFaro({
      url,
      app: {
        name: "faultline-ui",
        version: "0.1.0",
        // Its own environment: the tool's page loads are not a service of the production it watches
        // (they showed on the production board as a service "faultline-ui").
        environment: __FARO_THROUGH_DEV_PROXY__ ? "development" : "faultline",
      },
      instrumentations: getWebInstrumentations({ captureConsole: false }),
      sessionTracking: { enabled: true, persistent: false },
    });
  } catch {
    // No receiver, no reporting; the UI works the same.
  }
}
