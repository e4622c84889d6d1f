import { browserApp } from "./platform-catalog.ts";

/** One page view of a web user, tied to the backend trace it started. */
export interface PageVisit {
  userId: string;
  atMs: number;
  traceId: string;
  spanId: string;
  /** The backend request behind the page failed. */
  failed: boolean;
}

/**
 * The browser surface: what the Faro web SDK in `dm-web` would send. Each visit becomes one Faro
 * payload (one session) POSTed to the receiver's `/collect` with a navigation event carrying the page
 * load time and the trace context of the backend request it started.
 *
 * Failed pages send no exception: Faultline does not (yet) join browser sessions to the backend graph,
 * so a browser error spike during a backend outage would open a second, unconnected incident.
 */
export class FaroReporter {
  constructor(
    private readonly collectUrl: string,
    private readonly environment: string,
    private readonly apiKey?: string,
  ) {}

  /** Sends every visit; resolves when the receiver answered all of them. */
  async reportPageLoads(visits: readonly PageVisit[]): Promise<void> {
    await Promise.all(visits.map((visit) => this.send(visit)));
  }

  private async send(visit: PageVisit): Promise<void> {
    const timestamp = new Date(visit.atMs).toISOString();
    const trace = { trace_id: visit.traceId, span_id: visit.spanId };
    const payload = {
      meta: {
        app: { name: browserApp.name, version: browserApp.version, environment: this.environment },
        session: { id: `s-${visit.userId}-${Math.floor(visit.atMs / 1_800_000)}` },
        user: { id: visit.userId },
        page: { url: "https://dm.example.com/messages/42" },
        browser: { name: "Chrome", os: "Mac OS", mobile: false },
        sdk: { name: "faultline-demo", version: "0.1.0" },
      },
      events: [
        {
          name: "faro.performance.navigation",
          domain: "browser",
          timestamp,
          attributes: { pageLoadTime: String(Math.round(300 + (visit.atMs % 700))) },
          trace,
        },
      ],
    };
    const response = await fetch(this.collectUrl, {
      method: "POST",
      headers: { "content-type": "application/json", ...(this.apiKey ? { "x-api-key": this.apiKey } : {}) },
      body: JSON.stringify(payload),
    });
    // The receiver may shed load (429); a lost page view is fine for a demo.
    await response.arrayBuffer();
  }
}
