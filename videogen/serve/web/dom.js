// Building the page from data, as text only: every element is made with createElement and filled with
// textContent (or a Text node), never parsed as markup.
export const $ = (id) => document.getElementById(id);

export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === "dataset") Object.assign(node.dataset, v);
    else node[k] = v;  // className, textContent, value, title, type: properties, never markup
  }
  for (const child of children) if (child != null && child !== "") node.append(child);  // a string becomes a Text node
  return node;
}
export function num(v) {
  return typeof v === "number" && !Number.isInteger(v) ? String(Number(v.toPrecision(3))) : String(v);
}
export function readable(v) {  // any JSON value as plain words
  if (v == null) return "";
  if (Array.isArray(v)) return v.map(readable).join(", ");
  if (typeof v === "object") return Object.entries(v).map(([k, x]) => `${k.replace(/_/g, " ")} ${readable(x)}`).join(", ");
  return typeof v === "number" ? num(v) : String(v);
}
export function readableAllowed(a) {  // an error's `allowed`: {min, max}, {le: 200}, a list of choices, ...
  if (a == null) return "";
  if (Array.isArray(a)) return "one of " + a.map(readable).join(", ");
  if (typeof a !== "object") return readable(a);
  const words = { ge: "at least", gt: "more than", le: "at most", lt: "less than", min_length: "at least", max_length: "at most" };
  const parts = [];
  const rest = Object.assign({}, a);
  if ("min" in rest && "max" in rest) { parts.push(`${readable(rest.min)} to ${readable(rest.max)}`); delete rest.min; delete rest.max; }
  for (const [k, v] of Object.entries(rest)) parts.push(words[k] ? `${words[k]} ${readable(v)}` : `${k.replace(/_/g, " ")} ${readable(v)}`);
  return parts.join(", ");
}
// A refusal found in the page itself, in the shape the server refuses with (showError renders both alike).
export function fieldError(field, message) {
  return Object.assign(new Error(message), { body: { error: { code: "invalid_request", field, message } } });
}
