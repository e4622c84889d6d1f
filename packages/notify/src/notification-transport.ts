import type { ClaimedDelivery } from "@faultline/db";
import nodemailer, { type Transporter } from "nodemailer";
import { formatEmailMessage } from "./format-email-message.ts";
import { formatPagerDutyEvent } from "./format-pagerduty-event.ts";
import { formatSlackMessage } from "./format-slack-message.ts";
import { formatWebhookPayload, signWebhookPayload } from "./format-webhook-payload.ts";
import type { NotificationMessage } from "./notification-message.ts";
import { parseRetryAfterMs } from "./retry-delay.ts";

/** What one send came to. `retryable: false` means trying again cannot help (a 4xx, a missing secret). */
export type SendResult =
  | { ok: true; statusCode: number | null }
  | { ok: false; retryable: boolean; statusCode: number | null; error: string; retryAfterMs: number | null };

/** Sends one message to one destination. The worker's only I/O besides the database. */
export interface NotificationTransport {
  send(delivery: ClaimedDelivery, message: NotificationMessage): Promise<SendResult>;
  close?(): void;
}

export interface SmtpSettings {
  host: string;
  port: number;
  secure: boolean;
  user?: string | undefined;
  passwordEnv?: string | undefined;
  from: string;
}

export interface TransportOptions {
  /** Where `*Env` secrets are read from (process.env in production). */
  env: Readonly<Record<string, string | undefined>>;
  /** Longest wait for a receiver, ms; a hanging receiver costs at most this. */
  timeoutMs: number;
  clock: () => number;
  smtp?: SmtpSettings | undefined;
}

export const defaultPagerDutyUrl = "https://events.pagerduty.com/v2/enqueue";

const failed = (error: string, retryable = false): SendResult => ({
  ok: false,
  retryable,
  statusCode: null,
  error,
  retryAfterMs: null,
});

/** HTTP(S) through fetch, SMTP through nodemailer. Error texts never include URLs or secrets. */
export function createNotificationTransport(options: TransportOptions): NotificationTransport {
  let mailer: Transporter | undefined;
  const secret = (name: string | undefined) => (name ? options.env[name] : undefined);

  const post = async (url: string, body: string, headers: Record<string, string>): Promise<SendResult> => {
    let response: Response;
    try {
      response = await fetch(url, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", "user-agent": "faultline-notify/1", ...headers },
        redirect: "manual",
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (error) {
      return failed(describeFetchError(error, options.timeoutMs), true);
    }
    // Read (a little of) the body so the connection can be reused, within the same time limit.
    const detail = await response
      .text()
      .then((text) => text.slice(0, 200).replace(/\s+/g, " ").trim())
      .catch(() => "");
    if (response.status >= 200 && response.status < 300) return { ok: true, statusCode: response.status };
    const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
    return {
      ok: false,
      retryable,
      statusCode: response.status,
      error: `HTTP ${response.status}${detail ? `: ${detail}` : ""}`,
      retryAfterMs: parseRetryAfterMs(response.headers.get("retry-after"), options.clock()),
    };
  };

  return {
    async send(delivery, message) {
      const settings = delivery.destination.settings;
      const idempotency = { "idempotency-key": message.idempotencyKey, "x-faultline-event": message.event };
      switch (delivery.destination.kind) {
        case "slack": {
          const url = settings.url ?? secret(settings.urlEnv);
          if (!url) return failed(`environment variable ${settings.urlEnv ?? "(none)"} is not set`);
          return post(url, JSON.stringify(formatSlackMessage(message)), idempotency);
        }
        case "webhook": {
          if (!settings.url) return failed("no url configured");
          const body = formatWebhookPayload(message);
          const signingSecret = secret(settings.secretEnv);
          if (settings.secretEnv && !signingSecret) {
            return failed(`environment variable ${settings.secretEnv} is not set`);
          }
          const signature = signingSecret ? signWebhookPayload(signingSecret, body, options.clock()) : {};
          return post(settings.url, body, {
            ...idempotency,
            "x-faultline-delivery": message.idempotencyKey,
            ...signature,
          });
        }
        case "pagerduty": {
          const routingKey = secret(settings.routingKeyEnv);
          if (!routingKey)
            return failed(`environment variable ${settings.routingKeyEnv ?? "(none)"} is not set`);
          return post(
            settings.url ?? defaultPagerDutyUrl,
            JSON.stringify(formatPagerDutyEvent(message, routingKey)),
            {},
          );
        }
        case "email": {
          const smtp = options.smtp;
          if (!smtp) return failed("no SMTP server configured");
          if (!settings.to?.length) return failed("no recipients configured");
          const password = secret(smtp.passwordEnv);
          mailer ??= nodemailer.createTransport({
            host: smtp.host,
            port: smtp.port,
            secure: smtp.secure,
            ...(smtp.user ? { auth: { user: smtp.user, pass: password ?? "" } } : {}),
            connectionTimeout: options.timeoutMs,
            greetingTimeout: options.timeoutMs,
            socketTimeout: options.timeoutMs,
          });
          const email = formatEmailMessage(message);
          try {
            await mailer.sendMail({
              from: smtp.from,
              to: settings.to,
              subject: email.subject,
              text: email.text,
              html: email.html,
              // A stable Message-ID lets mail systems drop the copy a retry after a crash may send.
              messageId: `<${message.idempotencyKey.replace(/[^A-Za-z0-9.@_-]/g, "_")}@faultline>`,
              headers: { "X-Faultline-Idempotency-Key": message.idempotencyKey },
            });
            return { ok: true, statusCode: null };
          } catch (error) {
            const code = (error as { responseCode?: number }).responseCode;
            // SMTP 5xx replies are permanent; 4xx and network errors are worth retrying.
            return failed(
              `SMTP ${code ?? (error as { code?: string }).code ?? "error"}: ${String((error as Error).message).slice(0, 200)}`,
              code === undefined || code < 500,
            );
          }
        }
      }
    },
    close() {
      mailer?.close();
    },
  };
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  const err = error as { name?: string; cause?: { code?: string; message?: string } };
  if (err.name === "TimeoutError" || err.name === "AbortError") return `timed out after ${timeoutMs} ms`;
  const cause = err.cause?.code ?? err.cause?.message ?? (error as Error).message;
  return `request failed: ${String(cause).slice(0, 200)}`;
}
