// Building the page from server values safely: every value becomes a text
// node or an attribute, never markup.

/** An element with attributes (`on…` keys are listeners) and children. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces what `element` shows. */
export function show(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

let fieldCount = 0;

/** A labelled input with room for its own error below it. */
export function field(label, attributes = {}, hint = "") {
  const id = `field-${++fieldCount}`;
  const input = h(attributes.rows ? "textarea" : "input", { id, ...attributes });
  const hintNode = hint ? h("small", { id: `${id}-hint` }, hint) : null;
  if (hintNode) input.setAttribute("aria-describedby", `${id}-hint`);
  const error = h("p", { class: "error", id: `${id}-error`, role: "alert", hidden: true });
  const wrapper = h("div", { class: "field" }, h("label", { for: id }, label), input, hintNode, error);
  return { wrapper, input, error };
}

/** Shows `message` under a field (or clears it). */
export function fieldError(field, message) {
  field.error.textContent = message || "";
  field.error.hidden = !message;
  if (message) field.input.setAttribute("aria-invalid", "true");
  else field.input.removeAttribute("aria-invalid");
}

/** A timestamp from the proto3 JSON mapping, in UTC to the minute. */
export function when(timestamp) {
  if (!timestamp) return "—";
  return `${new Date(timestamp).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** Words separated by spaces or commas, as a list. */
export function words(text) {
  return text.split(/[\s,]+/).filter(Boolean);
}
