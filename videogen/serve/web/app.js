// VideoGen's page: plain JavaScript, no build step. Every call sends the API key (when one is typed)
// as "Authorization: Bearer", so media are fetched as blobs rather than linked directly.
"use strict";
const $ = (id) => document.getElementById(id);
const FIELDS = ["num_frames", "width", "height", "num_inference_steps", "seed"];
let models = {}, current = null, stream = null;

function headers(extra) {
  const key = $("api-key").value.trim() || localStorage.getItem("videogen-key") || "";
  return Object.assign(key ? { Authorization: "Bearer " + key } : {}, extra || {});
}
async function api(path, options) {
  const r = await fetch(path, Object.assign({}, options, { headers: headers((options || {}).headers) }));
  const body = r.headers.get("content-type")?.includes("json") ? await r.json() : null;
  if (!r.ok) throw Object.assign(new Error((body && body.error && body.error.message) || r.statusText), { body, status: r.status });
  return body;
}
async function blobUrl(path) {
  const r = await fetch(path, { headers: headers() });
  if (!r.ok) throw new Error(r.statusText);
  return URL.createObjectURL(await r.blob());
}

// -- models, defaults and limits ------------------------------------------------------------------
async function loadModels() {
  const data = await api("/api/video/models");
  models = {};
  for (const m of data.models.filter((m) => m.served)) models[m.id] = m;
  $("family").innerHTML = Object.keys(models).map((id) => `<option value="${id}">${models[id].display_name || id}</option>`).join("");
  onFamily();
}
function onFamily() {
  const m = models[$("family").value];
  if (!m) return;
  const tasks = m.tasks || Object.keys(m.task_support || {}).filter((t) => m.task_support[t] !== "not_supported");
  $("task").innerHTML = tasks.map((t) => `<option>${t}</option>`).join("");
  onTask();
}
function onTask() {
  const m = models[$("family").value];
  const task = $("task").value;
  $("image-row").hidden = task !== "image-to-video";
  const d = Object.assign({}, m.defaults || {}, ((m.request_defaults || {})[task]) || {});
  for (const f of FIELDS) if (f !== "seed") $(f).placeholder = d[f] ?? "";
  const fr = m.frame_rule || "";
  $("limits").textContent = `${m.id}: frames ${typeof fr === "string" ? fr : JSON.stringify(fr)}, ` +
    `sizes in multiples of ${m.resolution_multiple ?? "?"}`;
}

// -- the form ----------------------------------------------------------------------------------------
function clearErrors() {
  document.querySelectorAll(".field-error").forEach((e) => (e.textContent = ""));
  document.querySelectorAll(".invalid").forEach((e) => e.classList.remove("invalid"));
  $("form-error").textContent = "";
}
function showError(err) {
  const e = (err.body && err.body.error) || {};
  const slot = e.field && document.querySelector(`.field-error[data-for="${e.field}"]`);
  if (slot) {
    slot.textContent = e.message + (e.allowed ? ` (allowed: ${JSON.stringify(e.allowed)})` : "");
    $(e.field)?.classList.add("invalid");
  } else $("form-error").textContent = err.message;
}
async function body() {
  const b = { family: $("family").value, task: $("task").value, prompt: $("prompt").value };
  if ($("negative_prompt").value) b.negative_prompt = $("negative_prompt").value;
  for (const f of FIELDS) if ($(f).value !== "") b[f] = Number($(f).value);
  const file = $("image").files[0];
  if (b.task === "image-to-video" && file) {
    b.image = await new Promise((ok) => { const r = new FileReader(); r.onload = () => ok(r.result); r.readAsDataURL(file); });
  }
  return b;
}
async function estimate() {
  clearErrors();
  try {
    const e = await api("/api/video/estimate", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(await body()) });
    const secs = e.expected_seconds ?? e.estimate?.expected_seconds;
    $("estimate").textContent = `estimate: ${secs != null ? secs.toFixed(1) + " s" : "?"}` +
      (e.refused ? `, would be refused: ${e.refused.message || JSON.stringify(e.refused)}` : e.admission ? ", admitted" : "") +
      (e.note ? ` (${e.note})` : "");
  } catch (err) { showError(err); }
}
async function submit(ev) {
  ev.preventDefault();
  clearErrors();
  try {
    const job = await api("/api/video/jobs", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(await body()) });
    follow(job);
  } catch (err) { showError(err); }
}

// -- one job's progress, from its Server-Sent Events (read with fetch: EventSource cannot send the key) ---
function showJob(job) {
  const p = job.progress || {};
  $("job-id").textContent = job.id;
  $("job-progress").value = job.status === "succeeded" ? 100 : p.percent || 0;
  const step = p.step ? ` step ${p.step}/${p.total_steps}` : "";
  const eta = p.eta_s != null && !["succeeded", "failed", "cancelled"].includes(job.status) ? ` ETA ${p.eta_s.toFixed(1)}s` : "";
  $("job-stage").textContent = `${job.status} · ${p.stage || ""}${step}${eta}` + (job.error ? ` · ${job.error.message}` : "");
  $("job-stage").dataset.status = job.status;
}
async function follow(job) {
  current = job.id;
  if (stream) stream.abort();
  stream = new AbortController();
  $("current").hidden = false;
  $("job-video").hidden = true;
  $("cancel-btn").disabled = false;
  showJob(job);
  const r = await fetch(`/api/video/jobs/${job.id}/events`, { headers: headers(), signal: stream.signal });
  const reader = r.body.getReader(), decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read().catch(() => ({ done: true }));
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const chunk = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
      const data = chunk.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("");
      if (data) { job = JSON.parse(data); if (job.id === current) showJob(job); }
    }
  }
  if (job.id !== current) return;
  $("cancel-btn").disabled = true;
  if (job.status === "succeeded") {
    const v = $("job-video");
    v.src = await blobUrl(job.result.video_url);
    v.hidden = false;
    v.play().catch(() => {});
  }
  loadGallery();
}
async function cancel() {
  if (current) showJob(await api(`/api/video/jobs/${current}`, { method: "DELETE" }));
}

// -- gallery and runtime --------------------------------------------------------------------------
async function loadGallery() {
  const list = await api("/api/video/jobs?limit=12");
  const tiles = [];
  for (const j of list.jobs) {
    const tile = document.createElement("div");
    tile.className = "tile"; tile.dataset.job = j.id;
    tile.innerHTML = `<div>${j.family} · ${j.status}</div><div>${(j.request && j.request.prompt || "").slice(0, 60)}</div>`;
    if (j.status === "succeeded" && j.result && j.result.outputs && j.result.outputs.thumbnail) {
      const img = document.createElement("img");
      img.alt = j.id; tile.prepend(img);
      blobUrl(j.result.outputs.thumbnail.url).then((u) => (img.src = u)).catch(() => {});
      img.onclick = async () => {
        const v = document.createElement("video");
        v.controls = true; v.muted = true; v.src = await blobUrl(j.result.video_url);
        img.replaceWith(v); v.play().catch(() => {});
      };
    }
    tiles.push(tile);
  }
  $("gallery").replaceChildren(...tiles);
}
async function loadRuntime() {
  const rt = await api("/api/video/runtime");
  const hw = rt.hardware_profile || {}, pol = rt.load_policy || {};
  const rows = Object.entries(rt.families || {}).map(([f, info]) =>
    `<tr><td>${f}</td><td>${info.status || ""}</td><td>${JSON.stringify(info.replica_states || {})}</td>` +
    `<td>${(info.replicas || []).map((r) => (r.diagnostics?.hardware_profile?.device_name) || r.node_ip || "").join(", ")}</td></tr>`);
  $("runtime").innerHTML = `<p>device: ${hw.backend || "?"} ${hw.device_name || ""} · policy: ${pol.dtype || ""} ${pol.placement || ""}` +
    ` ${pol.device || ""}</p><table><tr><th>family</th><th>status</th><th>replicas</th><th>devices</th></tr>${rows.join("")}</table>`;
}

async function load() {
  try { await loadModels(); await Promise.all([loadGallery(), loadRuntime()]); $("form-error").textContent = ""; }
  catch (err) { $("form-error").textContent = err.status === 401 ? "enter the API key above" : err.message; }
  document.body.dataset.ready = "1";
}
$("api-key").value = localStorage.getItem("videogen-key") || "";
$("api-key").addEventListener("change", () => { localStorage.setItem("videogen-key", $("api-key").value.trim()); load(); });
$("family").onchange = onFamily;
$("task").onchange = onTask;
$("estimate-btn").onclick = estimate;
$("job-form").onsubmit = submit;
$("cancel-btn").onclick = cancel;
$("refresh-btn").onclick = loadGallery;
load();
