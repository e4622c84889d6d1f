import { type FormEvent, useEffect, useRef, useState } from "react";
import {
  type ApiTokenRequest,
  answerApiTokenRequest,
  apiTokenProblem,
  forgetApiToken,
  useApiTokenRequest,
  useApiTokenStored,
} from "../api-token.ts";
import "./api-token-dialog.css";

/**
 * Asks for the server's API token when a change was refused without it (see api-token-link.ts). Shown
 * once for the whole app; every change waiting for the token is sent again when it is given.
 */
export function ApiTokenDialog() {
  const request = useApiTokenRequest();
  // A fresh form per request: a refused token never stays in the field.
  return request ? <ApiTokenForm key={request.id} request={request} /> : null;
}

function ApiTokenForm({ request }: { request: ApiTokenRequest }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [token, setToken] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    const element = dialog.current;
    // Focus goes back to what was focused (the button of the refused action) once the dialog is gone.
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (element && !element.open) element.showModal();
    return () => {
      if (element?.open) element.close();
      opener?.focus();
    };
  }, []);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = token.trim();
    const found = apiTokenProblem(trimmed);
    setProblem(found);
    if (found === null) answerApiTokenRequest(trimmed);
  };
  const error =
    problem ??
    (request.rejected ? "The server did not accept that token. Check it and enter it again." : null);
  return (
    <dialog
      ref={dialog}
      className="api-token-dialog"
      aria-labelledby="api-token-title"
      aria-describedby="api-token-help"
      onCancel={(event) => {
        // Escape: close through the same path as Cancel, so the waiting change reports its error.
        event.preventDefault();
        answerApiTokenRequest(null);
      }}
    >
      <form onSubmit={submit} noValidate>
        <h2 id="api-token-title">This server needs its API token for changes</h2>
        <p id="api-token-help">
          It was started with <code>--token</code> (<code>FAULTLINE_TOKEN</code>): anything that changes data
          needs that token. Ask whoever runs the server for it. It is kept in this browser tab only until the
          tab closes, and the action you started is sent again with it.
        </p>
        {error && (
          <p className="api-token-error" role="alert" id="api-token-error">
            {error}
          </p>
        )}
        <label className="api-token-field">
          API token
          <input
            type="password"
            value={token}
            onChange={(event) => setToken(event.target.value)}
            autoComplete="off"
            spellCheck={false}
            autoFocus
            aria-invalid={error !== null}
            aria-errormessage={error !== null ? "api-token-error" : undefined}
          />
        </label>
        <div className="api-token-actions">
          <button type="button" onClick={() => answerApiTokenRequest(null)}>
            Cancel
          </button>
          <button type="submit" className="primary">
            Use token and retry
          </button>
        </div>
      </form>
    </dialog>
  );
}

/** Next to "Acting as": shown while a token is kept, to drop it from this tab. */
export function ForgetApiTokenButton() {
  const stored = useApiTokenStored();
  if (!stored) return null;
  return (
    <button type="button" className="link-button forget-api-token" onClick={forgetApiToken}>
      Forget API token
    </button>
  );
}
