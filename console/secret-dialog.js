// The one time a client secret is shown: a modal dialog with a copy button,
// removed from the page (secret and all) when it closes.

import { h } from "./dom.js";

export function showSecretOnce(clientId, secret, afterClose) {
  const value = h("code", { id: "new-secret", class: "secret" }, secret);
  const copied = h("span", { role: "status", class: "notice" });
  const copy = h("button", { type: "button", onclick: async () => {
    try {
      await navigator.clipboard.writeText(secret);
      copied.textContent = "Copied.";
    } catch {
      getSelection().selectAllChildren(value);
      copied.textContent = "Press Ctrl+C (⌘C) to copy the selected secret.";
    }
  } }, "Copy secret");
  const close = h("button", { type: "button", class: "quiet" }, "I have stored it — close");
  const dialog = h("dialog", { "aria-labelledby": "secret-title", class: "secret-dialog" },
    h("h2", { id: "secret-title" }, `Secret of ${clientId}`),
    h("p", { class: "warning" }, "Copy this secret now and store it safely. It cannot be shown again: tokend keeps only a hash of it."),
    value, h("div", { class: "row" }, copy, close, copied));
  const remove = () => {
    dialog.remove();
    afterClose();
  };
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", remove);
  document.body.append(dialog);
  dialog.showModal();
  copy.focus();
}
