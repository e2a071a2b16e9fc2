// Long calls show progress: the button that started one is disabled and a
// status line says what is happening, until the call ends either way.

const line = () => document.getElementById("progress");

/** Runs `work`, saying `what` meanwhile and keeping `button` from a second click. */
export async function busy(what, button, work) {
  const status = line();
  if (button) button.disabled = true;
  status.textContent = what;
  document.body.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    if (button) button.disabled = false;
    status.textContent = "";
    document.body.removeAttribute("aria-busy");
  }
}
