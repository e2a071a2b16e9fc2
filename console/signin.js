// Sign-in: an admin client's id and secret, or a token pasted as it is.

import { signInWithSecret, signInWithToken } from "./api.js";
import { field, h, show } from "./dom.js";
import { busy } from "./progress.js";

export function signInPage(view, notice, signedIn) {
  const clientId = field("Admin client ID", { name: "client_id", autocomplete: "username", required: true });
  const secret = field("Client secret", { name: "client_secret", type: "password", autocomplete: "current-password", required: true });
  const token = field("Access token", { name: "access_token", rows: 3, spellcheck: "false" },
    "A token with the tokend.admin scope, for example from `tokend` or your CI.");
  const error = h("p", { class: "error", role: "alert", hidden: true });

  const attempt = (button, how) => async (event) => {
    event.preventDefault();
    error.hidden = true;
    try {
      await busy("Signing in…", button, how);
      signedIn();
    } catch (err) {
      error.textContent = err.reason === "invalid_client"
        ? "Sign-in failed: the client ID or secret is wrong."
        : `Sign-in failed: ${err.message}`;
      error.hidden = false;
    }
  };
  const secretButton = h("button", { type: "submit" }, "Sign in");
  const tokenButton = h("button", { type: "submit", class: "quiet" }, "Sign in with token");
  const withSecret = h("form", { "aria-labelledby": "signin-title",
    onsubmit: attempt(secretButton, () => signInWithSecret(clientId.input.value.trim(), secret.input.value)) },
  clientId.wrapper, secret.wrapper, secretButton);
  const withToken = h("details", {},
    h("summary", {}, "Sign in with a token instead"),
    h("form", { onsubmit: attempt(tokenButton, () => signInWithToken(token.input.value.trim())) },
      token.wrapper, tokenButton));
  show(view,
    h("section", { class: "card narrow" },
      h("h1", { id: "signin-title" }, "Sign in to tokend"),
      notice ? h("p", { class: "notice", role: "status" }, notice) : null,
      h("p", {}, "Use a client that holds the tokend.admin scope. Your token stays in this tab's memory and is gone when you close it."),
      error, withSecret, withToken));
  clientId.input.focus();
}
