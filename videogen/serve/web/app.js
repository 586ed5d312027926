// VideoGen's page: plain JavaScript modules (this one, dom.js, media.js: the task's media inputs), no build step.
// Every call sends the API key (when one is typed) as "Authorization: Bearer", so media are fetched as blobs
// rather than linked directly.
//
// Nothing the server sends ever becomes HTML: every element is built with createElement and filled
// with textContent (or a Text node), never parsed as markup. The page's Content-Security-Policy (set by the
// server) forbids inline script as a second line of defence.
import { $, el, num, readable, readableAllowed } from "./dom.js";
import { addMedia, setupMedia, showInputs, slotName } from "./media.js";

const SIZE_FIELDS = ["num_frames", "width", "height", "num_inference_steps"];
const FIELDS = [...SIZE_FIELDS, "seed"];
const FORCING_FIELDS = ["ar_step", "causal_block_size", "overlap_history"];  // a family's own (SkyReels-V2)
const TERMINAL = ["succeeded", "failed", "cancelled"];
const KEY_NAME = "videogen-key";
const SMALL_VIDEO = 320;  // a video narrower than this is scaled up by a whole factor (tiny models make 32x32)
let models = {}, current = null, stream = null, playerUrl = null, thumbUrls = [];

function seconds(s) {
  if (s == null) return "?";
  return s < 60 ? `${num(s)} s` : s < 3600 ? `${num(s / 60)} min` : `${num(s / 3600)} h`;
}

// -- the API key: this tab only (sessionStorage) unless "remember on this device" (localStorage) --------
function key() { return $("api-key").value.trim(); }
function saveKey() {
  const k = key();
  if (k) sessionStorage.setItem(KEY_NAME, k); else sessionStorage.removeItem(KEY_NAME);
  if (k && $("remember-key").checked) localStorage.setItem(KEY_NAME, k); else localStorage.removeItem(KEY_NAME);
}
function headers(extra) {
  const k = key();
  return Object.assign(k ? { Authorization: "Bearer " + k } : {}, extra || {});
}
async function api(path, options) {
  const r = await fetch(path, Object.assign({}, options, { headers: headers((options || {}).headers) }));
  const body = (r.headers.get("content-type") || "").includes("json") ? await r.json().catch(() => null) : null;
  if (!r.ok) {
    const message = (body && body.error && body.error.message) || (body && typeof body.detail === "string" && body.detail);
    throw Object.assign(new Error(message || `${r.status} ${r.statusText}`), { body, status: r.status });
  }
  return body;
}
async function blobUrl(path) {
  const r = await fetch(path, { headers: headers() });
  if (!r.ok) throw new Error(`${r.status} ${r.statusText}`);
  return URL.createObjectURL(await r.blob());
}

// -- models: the served model's defaults and limits ------------------------------------------------------
async function loadModels() {
  const data = await api("/api/video/models");
  models = {};
  for (const m of (data.models || []).filter((m) => m.served)) models[m.id] = m;
  const family = $("family"), previous = family.value;
  family.replaceChildren(...Object.values(models).map((m) =>
    el("option", { value: m.id, textContent: m.display_name ? `${m.display_name} (${m.id})` : m.id })));
  if (previous in models) family.value = previous;
  onFamily();
}
function onFamily() {
  const m = models[$("family").value];
  if (!m) { onTask(); return; }  // a family the page does not know: the server says why when asked
  const task = $("task"), previous = task.value;
  const support = m.task_support || {};
  const tasks = (m.tasks || Object.keys(support)).filter((t) => support[t] !== "not_supported");
  task.replaceChildren(...tasks.map((t) => el("option", { value: t, textContent: t })));
  if (tasks.includes(previous)) task.value = previous;
  const loras = m.loras || {}, names = Object.keys(loras);  // the served model's declared adapters, by name
  $("loras").replaceChildren(...names.map((n) => loraRow(n, loras[n])));
  $("loras-row").hidden = !names.length;
  onTask();
}
function loraRow(name, lora) {  // one declared adapter: ticked to use it, at a scale within its scale_range
  const range = lora.scale_range, label = lora.description ? `${name}: ${lora.description}` : name;
  const use = el("input", { type: "checkbox", className: "lora-use", value: name });
  const scale = el("input", { type: "number", className: "lora-scale", step: "0.05", value: "1",
    min: range ? range[0] : "", max: range ? range[1] : "", title: `${name} scale` });
  return el("div", { className: "lora", dataset: { name } },
    el("label", {}, use, " ", label), el("label", {}, "scale ", scale), el("span", { className: "field-error" }));
}
function chosenLoras() {  // the ticked adapters in the request's order; each row's fields named by that order
  const rows = [...$("loras").children];
  for (const row of rows) { delete row.querySelector(".lora-scale").dataset.field; delete row.querySelector(".field-error").dataset.for; }
  return rows.filter((row) => row.querySelector(".lora-use").checked).map((row, i) => {
    row.querySelector(".lora-scale").dataset.field = `loras[${i}]`;
    row.querySelector(".field-error").dataset.for = `loras[${i}]`;
    return { name: row.dataset.name, scale: Number(row.querySelector(".lora-scale").value || 1) };
  });
}
function served(m, task) {
  return {
    defaults: Object.assign({}, m.defaults || {}, (m.request_defaults || {})[task] || {}),
    limits: (m.request_limits || {})[task] || {},
  };
}
function onTask() {
  const m = models[$("family").value], task = $("task").value;
  showInputs(m, task);  // the inputs the task takes, as the served family declares them
  $("with_audio-row").hidden = !(m && m.audio);  // a family that generates sound (LTX-2)
  $("forcing-row").hidden = !(m && (m.request_fields || []).includes("ar_step"));  // diffusion forcing (SkyReels-V2)
  if (!m) { $("limits").textContent = ""; return; }
  const { defaults: d, limits } = served(m, task);
  for (const f of SIZE_FIELDS) $(f).placeholder = d[f] ?? "";
  const frames = limits.num_frames, size = limits.size;
  for (const f of ["num_frames", "width", "height"]) for (const a of ["min", "max", "step"]) $(f).removeAttribute(a);
  if (frames) {
    const step = frames.multiple || 1, first = frames.min + ((((frames.remainder || 0) - frames.min) % step) + step) % step;
    Object.assign($("num_frames"), { min: first, max: frames.max, step });
  }
  if (size) for (const f of ["width", "height"]) Object.assign($(f), { min: size.min, max: size.max, step: size.multiple || 1 });
  const source = m.model && m.model.source;
  const parts = [
    `frames ${frames ? frames.rule : m.frame_rule || "?"}`,
    size ? `width and height ${size.min} to ${size.max} in multiples of ${size.multiple}`
      : `width and height in multiples of ${m.resolution_multiple ?? "?"}`,
    `defaults ${d.num_frames ?? "?"} frames at ${d.width ?? "?"}×${d.height ?? "?"}, ${d.num_inference_steps ?? "?"} steps`,
  ];
  $("limits").textContent = `${m.display_name || m.id}${source ? ` (model: ${source})` : ""}: ${parts.join("; ")}.`;
}

// -- the form --------------------------------------------------------------------------------------------------
function clearErrors() {
  document.querySelectorAll(".field-error").forEach((e) => (e.textContent = ""));
  document.querySelectorAll(".invalid").forEach((e) => e.classList.remove("invalid"));
  $("form-error").textContent = "";
}
function fieldSlot(field) {
  const name = slotName(field);
  return name ? [...document.querySelectorAll(".field-error")].find((s) => s.dataset.for === name) : undefined;
}
function markInvalid(field) {  // the input a refused field names (a keyframe row's by its data-field)
  const name = slotName(field);
  const input = $(name) || [...document.querySelectorAll("[data-field]")].find((n) => n.dataset.field === name);
  if (input) input.classList.add("invalid");
}
function errorText(e, fallback) {
  const allowed = readableAllowed(e.allowed);
  return (e.message || fallback || "the request failed") + (allowed ? ` (allowed: ${allowed})` : "");
}
function showError(err) {
  const e = (err.body && err.body.error) || {};
  const slot = fieldSlot(e.field);
  if (slot) {
    slot.textContent = errorText(e);
    markInvalid(e.field);
  } else $("form-error").textContent = err.status === 401 ? "enter the API key above (" + err.message + ")" : errorText(e, err.message);
}
async function body() {
  const b = { family: $("family").value, task: $("task").value, prompt: $("prompt").value };
  if ($("negative_prompt").value) b.negative_prompt = $("negative_prompt").value;
  for (const f of FIELDS) if ($(f).value !== "") b[f] = Number($(f).value);
  if (!$("forcing-row").hidden) for (const f of FORCING_FIELDS) if ($(f).value !== "") b[f] = Number($(f).value);
  if (!$("with_audio-row").hidden && !$("with_audio").checked) b.with_audio = false;  // sent only to leave it out
  const loras = chosenLoras();
  if (loras.length) b.loras = loras;
  return addMedia(b);
}
function showEstimate(r) {
  const est = r.estimate || {}, hw = r.hardware;
  const parts = [`Estimate: ${est.expected_seconds != null ? "about " + seconds(est.expected_seconds) : "time unknown"}`];
  if (hw) parts.push(`on ${[hw.device_name, hw.backend && `(${hw.backend})`].filter(Boolean).join(" ")}`);
  let verdict = "unknown";
  if (r.refused) {
    verdict = "refused";
    parts.push(`would be refused: ${errorText(r.refused)}`);
    const slot = fieldSlot(r.refused.field);
    if (slot) { slot.textContent = r.refused.message || "would be refused"; markInvalid(r.refused.field); }
  } else if (r.admission) {
    verdict = "admitted";
    parts.push(`would run${r.admission.rung ? ` (placement ${r.admission.rung})` : ""}`);
  }
  if (r.note) parts.push(r.note);
  $("estimate").textContent = parts.join(", ");
  $("estimate").dataset.verdict = verdict;
}
async function estimate() {
  clearErrors();
  $("estimate").textContent = "estimating…";
  delete $("estimate").dataset.verdict;
  try {
    showEstimate(await api("/api/video/estimate", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(await body()) }));
  } catch (err) { $("estimate").textContent = ""; showError(err); }
}
async function submit(ev) {
  ev.preventDefault();
  clearErrors();
  try {
    const job = await api("/api/video/jobs", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(await body()) });
    follow(job);
    loadGallery().catch(() => {});
  } catch (err) { showError(err); }
}

// -- the player: one job's progress (its Server-Sent Events, read with fetch: EventSource cannot send the key) ---
let shown = null;  // the newest state shown: a late answer (a DELETE's, a poll's) never rolls it back
function showJob(job) {
  if (shown && shown.id === job.id && (TERMINAL.includes(shown.status) && !TERMINAL.includes(job.status)
      || (job.updated_at != null && shown.updated_at != null && job.updated_at < shown.updated_at))) return;
  shown = job;
  const p = job.progress || {};
  $("job-id").textContent = job.id;
  $("job-prompt").textContent = (job.request && job.request.prompt) || "";
  $("job-progress").value = job.status === "succeeded" ? 100 : p.percent || 0;
  const step = (p.step ? ` step ${p.step}/${p.total_steps}` : "") + (p.block ? ` (block ${p.block}/${p.total_blocks})` : "");
  const eta = p.eta_s != null && !TERMINAL.includes(job.status) ? ` ETA ${seconds(p.eta_s)}` : "";
  $("job-stage").textContent = `${job.status} · ${p.stage || ""}${step}${eta}` + (job.error ? ` · ${errorText(job.error)}` : "");
  $("job-stage").dataset.status = job.status;
  $("cancel-btn").disabled = TERMINAL.includes(job.status);
}
function resetPlayer() {
  const v = $("job-video");
  v.pause();
  v.removeAttribute("src");
  v.load();
  v.hidden = true;
  $("job-facts").replaceChildren();
  if (playerUrl) URL.revokeObjectURL(playerUrl);
  playerUrl = null;
}
async function play(job) {
  const url = await blobUrl(job.result.video_url);
  if (job.id !== current) { URL.revokeObjectURL(url); return; }
  playerUrl = url;
  const v = $("job-video"), r = job.result, params = job.params || {};
  v.src = url;
  v.hidden = false;
  const facts = [`${r.frames} frames`, `${r.width}×${r.height}`, `${r.fps} fps`, `${num((r.bytes || 0) / 1024)} KiB`,
    params.seed != null ? `seed ${params.seed}` : "", params.with_audio ? "with sound" : "",
    `${job.family} · ${job.task}`].filter(Boolean).join(" · ");
  $("job-facts").replaceChildren(facts + " · ", el("a", { href: url, download: `${job.id}.mp4`, textContent: "download MP4" }));
  // with its sound where the browser lets the page play it (after a click on the page), else muted: the controls unmute
  v.muted = false;
  v.play().catch(() => { v.muted = true; v.play().catch(() => {}); });
}
function sizePlayer() {  // its own size; a tiny video scaled up by a whole factor so it can be seen
  const v = $("job-video"), w = v.videoWidth;
  if (!w) return;
  const factor = w < SMALL_VIDEO ? Math.ceil(SMALL_VIDEO / w) : 1;
  v.width = w * factor;
  v.classList.toggle("scaled", factor > 1);
}
async function follow(job) {
  current = job.id;
  if (stream) stream.abort();
  stream = new AbortController();
  resetPlayer();
  $("current").hidden = false;
  showJob(job);
  if (!TERMINAL.includes(job.status)) {
    try {
      const r = await fetch(`/api/video/jobs/${encodeURIComponent(job.id)}/events`, { headers: headers(), signal: stream.signal });
      if (!r.ok) throw new Error(`${r.status} ${r.statusText}`);
      const reader = r.body.getReader(), decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const chunk = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
          const data = chunk.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("");
          if (data) { const next = JSON.parse(data); if (next.id === job.id) { job = next; if (job.id === current) showJob(job); } }
        }
      }
    } catch (err) {
      if (err.name === "AbortError") return;
      job = await api(`/api/video/jobs/${encodeURIComponent(job.id)}`).catch(() => job);
      if (job.id === current) showJob(job);
    }
  }
  if (job.id !== current) return;
  if (job.status === "succeeded") await play(job).catch((err) => { $("job-facts").textContent = `the video could not be loaded: ${err.message}`; });
  if (!TERMINAL.includes(job.status)) return;
  loadGallery().catch(() => {});
}
async function openJob(id) {
  try {
    follow(await api(`/api/video/jobs/${encodeURIComponent(id)}`));
    $("current").scrollIntoView({ block: "nearest" });
  } catch (err) { showError(err); }
}
async function cancel() {
  if (!current) return;
  try { showJob(await api(`/api/video/jobs/${encodeURIComponent(current)}`, { method: "DELETE" })); }
  catch (err) { $("job-stage").textContent = `cancel failed: ${err.message}`; }
}

// -- gallery ----------------------------------------------------------------------------------------------------
function tile(j) {
  const prompt = (j.request && j.request.prompt) || "";
  const thumb = j.result && j.result.outputs && j.result.outputs.thumbnail;
  const picture = el("div", { className: "tile-picture" });
  if (j.status === "succeeded" && thumb) {
    const img = el("img", { alt: "" });
    img.addEventListener("load", () => img.classList.toggle("small", img.naturalWidth < 128));
    picture.append(img);
    blobUrl(thumb.url).then((u) => { thumbUrls.push(u); img.src = u; }).catch(() => {});
  } else picture.append(el("span", { className: "tile-placeholder", textContent: j.status }));
  const t = el("button", { type: "button", className: "tile", title: prompt, dataset: { job: j.id, status: j.status } },
    picture,
    el("span", { className: "tile-status", textContent: `${j.family} · ${j.status}` }),
    el("span", { className: "tile-prompt", textContent: prompt }));
  t.addEventListener("click", () => openJob(j.id));
  return t;
}
async function loadGallery() {
  const list = await api("/api/video/jobs?limit=12");
  const old = thumbUrls;
  thumbUrls = [];
  $("gallery").replaceChildren(...(list.jobs || []).map(tile));
  if (!(list.jobs || []).length) $("gallery").append(el("p", { className: "hint", textContent: "no jobs yet" }));
  setTimeout(() => old.forEach((u) => URL.revokeObjectURL(u)), 1000);
}

// -- runtime: device, policy, per-family status and replicas (fields a key may not see are left out) ---------------
function join(parts, sep) { return parts.filter((p) => p != null && p !== "" && p !== false).join(sep || " "); }
function loadRuntimeFacts(rt) {
  const hw = rt.hardware_profile || {}, pol = rt.load_policy || {}, run = rt.runtime || {}, pkgs = run.packages || {};
  const facts = [
    ["Device", join([hw.backend, hw.device_name, hw.gfx_arch && `(${hw.gfx_arch})`])],
    ["Memory", join([hw.total_vram_gb != null && `${num(hw.total_vram_gb)} GB VRAM`,
      hw.system_ram_gb != null && `${num(hw.system_ram_gb)} GB RAM`], ", ")],
    ["Load policy", join([pol.tier && `tier ${pol.tier}`, pol.dtype, pol.placement && `placement ${pol.placement}`,
      pol.device && `on ${pol.device}`], ", ")],
    ["Why", join(pol.reasons || [], "; ")],
    ["Versions", join([run.videogen && `videogen ${run.videogen}`, ...Object.entries(pkgs).map(([k, v]) => v && `${k} ${v}`)], ", ")],
    ["Access", rt.auth && (rt.auth.enabled ? "API key required" : "open: no API key required")],
    ["Reported by", rt.reported_by],
    ["Note", join([rt.note, rt.details], "; ")],
  ].filter(([, v]) => v);
  return el("dl", {}, ...facts.flatMap(([k, v]) => [el("dt", { textContent: k }), el("dd", { textContent: readable(v) })]));
}
function familyRow(family, info) {
  const states = readable(info.replica_states || {}) || "none";
  const devices = (info.replicas || []).map((r) =>
    join([r.device_name || (r.diagnostics && r.diagnostics.hardware_profile && r.diagnostics.hardware_profile.device_name),
      r.node_ip && `(${r.node_ip})`, r.state]))
    .filter(Boolean).join("; ");
  const status = el("td", { textContent: info.status || "?", title: info.message || "", dataset: { status: info.status || "" } });
  return el("tr", {},
    el("td", { textContent: family }), el("td", { textContent: readable(info.model) }), status,
    el("td", { textContent: states }), el("td", { textContent: readable(info.jobs || {}) }), el("td", { textContent: devices }));
}
async function loadRuntime() {
  const rt = await api("/api/video/runtime");
  const parts = [loadRuntimeFacts(rt || {})];
  const families = Object.entries((rt && rt.families) || {});
  if (families.length) {
    const head = el("tr", {}, ...["family", "model", "status", "replicas", "jobs", "devices"].map((h) => el("th", { textContent: h })));
    parts.push(el("table", {}, el("thead", {}, head), el("tbody", {}, ...families.map(([f, info]) => familyRow(f, info || {})))));
  }
  $("runtime").replaceChildren(...parts);
}

async function load() {
  $("form-error").textContent = "";
  try {
    await loadModels();
    await Promise.all([loadGallery(), loadRuntime().catch((err) => {
      $("runtime").replaceChildren(el("p", { className: "hint", textContent: `runtime not available: ${err.message}` }));
    })]);
  } catch (err) { showError(err); }
  document.body.dataset.ready = "1";
}
$("api-key").value = sessionStorage.getItem(KEY_NAME) || localStorage.getItem(KEY_NAME) || "";
$("remember-key").checked = Boolean(localStorage.getItem(KEY_NAME));
$("api-key").addEventListener("change", () => { saveKey(); load(); });
$("remember-key").addEventListener("change", saveKey);
$("family").addEventListener("change", onFamily);
$("task").addEventListener("change", onTask);
setupMedia();
$("estimate-btn").addEventListener("click", estimate);
$("job-form").addEventListener("submit", submit);
$("cancel-btn").addEventListener("click", cancel);
$("refresh-btn").addEventListener("click", () => loadGallery().catch(showError));
$("job-video").addEventListener("loadedmetadata", sizePlayer);
load();
