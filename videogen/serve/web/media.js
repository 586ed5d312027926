// The media a task takes: which inputs show is the served family's required_inputs and optional_inputs for the
// task (from /api/video/models), never a list of task names here. Files are read as data URLs in the browser and
// previewed from blob: URLs (allowed by the page's img-src / media-src); a file that is not what its field takes
// is refused beside the field, its name shown as text.
import { $, el, fieldError } from "./dom.js";

const FILE_FIELDS = { image: ["image"], last_image: ["image"], video: ["video"], mask: ["video", "image"] };
const NUMBER_FIELDS = ["strength", "conditioning_scale"];
const INPUTS = [...Object.keys(FILE_FIELDS), "reference_images", "conditions", ...NUMBER_FIELDS];
const MAX_REFERENCES = 4, MAX_CONDITIONS = 8;
const TYPES = { image: ["image/png", "image/jpeg", "image/webp"], video: ["video/mp4", "video/webm", "video/quicktime"] };
const WORDS = { image: "a PNG, JPEG or WebP image", video: "an MP4, WebM or MOV video" };
const urls = new WeakMap();  // a preview box -> the blob: URLs it shows

function kindOf(file) {
  return Object.keys(TYPES).find((k) => TYPES[k].includes(file.type)) || null;
}
function checked(field, file, kinds) {  // the file's kind, or a refusal naming the field and the file
  const kind = kindOf(file);
  if (kinds.includes(kind)) return kind;
  throw fieldError(field, `${JSON.stringify(file.name)} is not ${kinds.map((k) => WORDS[k]).join(" or ")}`);
}
function dataUrl(file) {
  return new Promise((ok, fail) => {
    const r = new FileReader();
    r.addEventListener("load", () => ok(r.result));
    r.addEventListener("error", () => fail(r.error));
    r.readAsDataURL(file);
  });
}
function preview(box, files) {  // an image thumbnail or a muted looping clip per file, from blob: URLs
  for (const u of urls.get(box) || []) URL.revokeObjectURL(u);
  const made = [], shown = [];
  for (const file of files) {
    const kind = kindOf(file);
    if (!kind) continue;
    const src = URL.createObjectURL(file);
    made.push(src);
    shown.push(kind === "video"
      ? el("video", { muted: true, loop: true, autoplay: true, playsInline: true, className: "thumb", src })
      : el("img", { src, alt: "", className: "thumb" }));
  }
  urls.set(box, made);
  box.replaceChildren(...shown);
}

// -- keyframes: a repeatable row of file + frame index + strength -----------------------------------------------
function part(name, node) {  // an input or error slot of a row, renamed with its row (conditions[i].name)
  node.dataset.part = name;
  return node;
}
function conditionRow() {
  const accept = [...TYPES.image, ...TYPES.video].join(",");
  const file = part("media", el("input", { type: "file", accept, className: "condition-file" }));
  const frame = part("frame_index", el("input", { type: "number", min: 0, step: 1, value: "0", className: "condition-frame" }));
  const strength = part("strength", el("input", { type: "number", min: 0, max: 1, step: 0.05, value: "1", className: "condition-strength" }));
  const box = el("span", { className: "previews" });
  const remove = el("button", { type: "button", textContent: "Remove", className: "condition-remove" });
  const slot = (name) => part(name, el("span", { className: "field-error" }));
  const row = el("div", { className: "condition" },
    el("label", {}, "Image or clip", file, box, slot("media")),
    el("label", {}, "At frame", frame, slot("frame_index")),
    el("label", {}, "Strength", strength, slot("strength")),
    remove);
  file.addEventListener("change", () => preview(box, [...file.files]));
  remove.addEventListener("click", () => { preview(box, []); row.remove(); renumber(); });
  return row;
}
function renumber() {
  [...$("conditions").children].forEach((row, i) => {
    row.dataset.index = String(i);
    for (const node of row.querySelectorAll("[data-part]")) {
      const name = `conditions[${i}].${node.dataset.part}`;
      if (node.classList.contains("field-error")) node.dataset.for = name; else node.dataset.field = name;
    }
  });
  $("add-condition").disabled = $("conditions").children.length >= MAX_CONDITIONS;
}
function addCondition() {
  $("conditions").append(conditionRow());
  renumber();
}

// -- what the page shows and sends ---------------------------------------------------------------------------------
export function showInputs(m, task) {
  const takes = [...(((m && m.required_inputs) || {})[task] || []), ...(((m && m.optional_inputs) || {})[task] || [])];
  for (const f of INPUTS) $(f + "-row").hidden = !takes.includes(f);
  if (!$("conditions-row").hidden && !$("conditions").children.length) addCondition();
}
async function conditions() {
  const out = [];
  for (const [i, row] of [...$("conditions").children].entries()) {
    const file = row.querySelector(".condition-file").files[0];
    if (!file) throw fieldError(`conditions[${i}].media`, `conditions[${i}]: choose an image or a clip for this keyframe`);
    const kind = checked(`conditions[${i}].media`, file, ["image", "video"]);
    const c = { [kind]: await dataUrl(file) };
    const frame = row.querySelector(".condition-frame").value, strength = row.querySelector(".condition-strength").value;
    if (frame !== "") c.frame_index = Number(frame);
    if (strength !== "") c.strength = Number(strength);
    out.push(c);
  }
  return out;
}
export async function addMedia(b) {  // the shown media inputs into the request body b
  for (const [f, kinds] of Object.entries(FILE_FIELDS)) {
    const file = $(f).files[0];
    if (!$(f + "-row").hidden && file) {
      checked(f, file, kinds);
      b[f] = await dataUrl(file);
    }
  }
  if (!$("mask-row").hidden && $("mask").files.length > 1) {  // an image sequence: one image per frame, by name
    const files = [...$("mask").files].sort((x, y) => x.name.localeCompare(y.name, undefined, { numeric: true }));
    files.forEach((file) => checked("mask", file, ["image"]));
    b.mask = await Promise.all(files.map(dataUrl));
  }
  if (!$("reference_images-row").hidden && $("reference_images").files.length) {
    const files = [...$("reference_images").files];
    if (files.length > MAX_REFERENCES) throw fieldError("reference_images", `${files.length} images chosen; at most ${MAX_REFERENCES}`);
    files.forEach((file) => checked("reference_images", file, ["image"]));
    b.reference_images = await Promise.all(files.map(dataUrl));
  }
  if (!$("conditions-row").hidden) b.conditions = await conditions();
  for (const f of NUMBER_FIELDS) if (!$(f + "-row").hidden && $(f).value !== "") b[f] = Number($(f).value);
  return b;
}
// The slot a refused field is shown in: conditions.0.frame_index (pydantic) and conditions[0].frame_index (the
// core) alike; a keyframe's image or video in its row's file slot; reference_images[2] beside the file input.
export function slotName(field) {
  if (!field) return field;
  const c = /^conditions(?:\[(\d+)\]|\.(\d+))(?:\.(\w+))?/.exec(field);
  if (c) return `conditions[${c[1] ?? c[2]}].${c[3] === "frame_index" || c[3] === "strength" ? c[3] : "media"}`;
  const lora = /^loras(?:\[(\d+)\]|\.(\d+))/.exec(field);  // an adapter's row (its scale input and its slot)
  if (lora) return `loras[${lora[1] ?? lora[2]}]`;
  const base = /^(reference_images|mask|video|image|last_image)[.[]/.exec(field);
  return base ? base[1] : field;
}
export function setupMedia() {
  for (const f of [...Object.keys(FILE_FIELDS), "reference_images"]) {
    $(f).addEventListener("change", () => preview($(f + "-previews"), [...$(f).files]));
  }
  $("add-condition").addEventListener("click", addCondition);
}
