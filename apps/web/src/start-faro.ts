declare const __FARO_THROUGH_DEV_PROXY__: boolean;

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
        environment: __FARO_THROUGH_DEV_PROXY__ ? "development" : "production",
      },
      instrumentations: getWebInstrumentations({ captureConsole: false }),
      sessionTracking: { enabled: true, persistent: false },
    });
  } catch {
    // No receiver, no reporting; the UI works the same.
  }
}
