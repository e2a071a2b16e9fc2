// The console's shell: sign-in, the navigation, and which page the address
// (#/clients, #/clients/ID, #/new, #/keys, #/events) shows.

import { onExpired, signOut, signedIn } from "./api.js";
import { clientPage } from "./client.js";
import { clientsPage } from "./clients.js";
import { eventsPage } from "./events.js";
import { keysPage } from "./keys.js";
import { newClientPage } from "./new-client.js";
import { signInPage } from "./signin.js";

const view = document.getElementById("view");
const nav = document.getElementById("nav");

/** Shows the page the address names, or sign-in with `notice`. */
export function render(notice = "") {
  nav.hidden = !signedIn();
  if (!signedIn()) {
    signInPage(view, notice, () => render());
    return;
  }
  const [, section, id] = location.hash.split("/");
  for (const link of nav.querySelectorAll("a")) {
    if (link.getAttribute("href") === `#/${section || "clients"}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (section === "clients" && id) clientPage(view, decodeURIComponent(id));
  else if (section === "new") newClientPage(view);
  else if (section === "keys") keysPage(view);
  else if (section === "events") eventsPage(view);
  else clientsPage(view);
  view.focus();
}

onExpired((message) => render(message));
window.addEventListener("hashchange", () => render());
document.getElementById("sign-out").addEventListener("click", () => {
  signOut();
  // Replaced, not assigned: a hashchange would render again without the notice.
  history.replaceState(null, "", "#/clients");
  render("You are signed out.");
});
render();
