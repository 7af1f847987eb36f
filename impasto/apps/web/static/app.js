// The page: the new-run form, the live view of the running job (fed by server-sent events),
// the queue and the gallery of past runs.
import { drawLosses } from "./chart.js";
import { ImageSlot, SettingsForm, clearErrors, el, showError } from "./form.js";

const ACTIVE = ["queued", "running"];
const FILES = [["result.png", "Result (PNG)"], ["animation.gif", "Animation (GIF)"], ["comparison.png", "Comparison"]];
const $ = (id) => document.getElementById(id);

const state = { jobs: new Map(), shown: null, points: [], parent: null };
let form, content, styles, models;

async function start() {
  const schema = await (await fetch("/api/config")).json();
  models = schema.models;
  form = new SettingsForm(schema);
  form.fill();
  content = new ImageSlot("content", false, schema.max_upload_bytes, updateStart);
  styles = new ImageSlot("styles", true, schema.max_upload_bytes, updateStart);
  $("start").addEventListener("click", submit);
  $("stop").addEventListener("click", () => state.shown && stopJob(state.shown));
  updateStart();
  listen();
}

function updateStart() {
  $("start").disabled = !content.images.length || !styles.images.length;
}

async function submit() {
  clearErrors();
  $("start").disabled = true;
  const body = { settings: form.values(), content: content.images[0], styles: styles.images, parent: state.parent };
  try {
    const response = await fetch("/api/jobs", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    const answer = await response.json();
    if (!response.ok) {
      const where = { content: "images", styles: "images" }[answer.field] || answer.field || "form";
      showError(where, answer.message);
      return;
    }
    upsert(answer);
  } catch {
    showError("form", "The server could not be reached: is impasto serve still running?");
  } finally {
    updateStart();
  }
}

async function stopJob(id) {
  const response = await fetch(`/api/jobs/${id}/stop`, { method: "POST" });
  if (response.ok) upsert(await response.json());
}

// Server-sent events: "hello" (everything now), then job changes, progress and previews.
function listen() {
  const source = new EventSource("/api/events");
  source.onopen = () => setConnection("connected", "ok");
  source.onerror = () => setConnection("reconnecting…", "down");
  source.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "hello") hello(event);
    else if (event.type === "job") upsert(event.job);
    else if (event.type === "progress") progress(event);
    else if (event.type === "preview" && event.job === state.shown) $("preview").src = event.image;
    else if (event.type === "resync") { source.close(); listen(); }
  };
}

function setConnection(text, kind) {
  $("connection").textContent = text;
  $("connection").className = `pill ${kind}`;
}

function hello(event) {
  state.jobs = new Map(event.jobs.map((job) => [job.id, job]));
  if (event.live) {
    show(event.live.job);
    state.points = event.live.points;
    if (event.live.preview) $("preview").src = event.live.preview;
    progress({ ...event.live, points: [] });
  } else {
    const last = event.jobs.find((job) => job.state !== "queued");  // newest first
    if (last) show(last.id);
  }
  render();
}

function upsert(job) {
  state.jobs.set(job.id, job);
  if (job.state === "running" && state.shown !== job.id) {
    show(job.id);
    state.points = [];
    progress({ iteration: 0, iterations: job.settings.iterations || 0, elapsed: 0, eta: null, points: [] });
  }
  render();
}

// The live card follows the running job, and keeps the last one (with its downloads) once it ends.
function show(id) {
  state.shown = id;
  delete $("preview").dataset.result;
}

function progress(event) {
  const job = state.jobs.get(event.job);
  if (job && job.state === "queued") {  // progress means it runs, even if its "job" event was missed
    state.jobs.set(job.id, { ...job, state: "running" });
    render();
  }
  if (event.job && event.job !== state.shown) show(event.job);
  state.points.push(...event.points);
  const share = event.iterations ? event.iteration / event.iterations : 0;
  $("bar").style.width = `${Math.round(share * 100)}%`;
  const eta = event.eta === null || event.eta === undefined ? "" : ` · about ${duration(event.eta)} left`;
  $("progress-text").textContent = `Iteration ${event.iteration} of ${event.iterations} · ${duration(event.elapsed)} elapsed${eta}`;
  drawLosses($("losses"), state.points);
}

function duration(seconds) {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

function render() {
  renderLive();
  const jobs = [...state.jobs.values()].sort((a, b) => a.created - b.created);
  const active = jobs.filter((job) => ACTIVE.includes(job.state));
  $("queue").replaceChildren(...active.map(queueItem));
  $("queue-empty").hidden = active.length > 0;
  const done = jobs.filter((job) => !ACTIVE.includes(job.state)).reverse();
  $("gallery").replaceChildren(...done.map(galleryItem));
  $("gallery-empty").hidden = done.length > 0;
}

function renderLive() {
  const job = state.jobs.get(state.shown);
  $("live-empty").hidden = Boolean(job);
  $("live-body").hidden = !job;
  if (!job) return;
  const running = job.state === "running";
  $("live-title").textContent = running ? "Now running" : "Last run";
  $("stop").hidden = !running;
  $("progress-text").hidden = !running;
  $("losses").hidden = !running && state.points.length < 2;  // a past run opened later has no curve here
  $("live-message").textContent = running ? "" : `${job.state}: ${job.message}`;
  if (!running && job.files.includes("result.png") && $("preview").dataset.result !== job.id) {
    $("preview").src = fileUrl(job, "result.png");
    $("preview").dataset.result = job.id;
  }
  $("live-downloads").replaceChildren(...(running ? [] : downloads(job)));
}

function fileUrl(job, name, download = false) {
  return `/api/jobs/${job.id}/files/${name}${download ? "?download" : `?v=${job.finished || 0}`}`;
}

function downloads(job) {
  return FILES.filter(([name]) => job.files.includes(name))
    .map(([name, label]) => el("a", { href: fileUrl(job, name, true), download: "" }, label));
}

function when(job) {
  return new Date(job.created * 1000).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

function names(job) {
  const styleNames = job.inputs.styles.map((s) => s.name).join(" + ");
  return `${job.inputs.content.name} × ${styleNames}`;
}

function summary(job) {
  const s = job.settings;
  const parts = [models[job.model] || job.model, s.size && `${s.size} px`, s.iterations && `${s.iterations} it.`,
    s.style_weight !== undefined && `style ${s.style_weight}`, s.preserve_color && s.preserve_color !== "none" && `colour: ${s.preserve_color}`,
    s.init && `start: ${s.init}`, s.seed !== undefined && `seed ${s.seed}`];
  return parts.filter(Boolean).join(" · ");
}

function queueItem(job) {
  const running = job.state === "running";
  return el("li", { "data-job": job.id },
    el("span", { class: `state ${job.state}` }, job.state),
    el("div", { class: "what" }, el("p", {}, names(job)), el("p", { class: "muted" }, summary(job))),
    el("button", { class: "small", type: "button", onclick: () => stopJob(job.id) }, running ? "Stop" : "Cancel"));
}

function galleryItem(job) {
  const picture = job.files.includes("thumb.jpg")
    ? el("img", { src: fileUrl(job, "thumb.jpg"), alt: `Result of ${names(job)}`, loading: "lazy" })
    : el("div", { class: "noimage" }, "no image");
  const inputs = [job.inputs.content, ...job.inputs.styles]
    .map((image) => el("img", { src: `/api/uploads/${image.id}/thumb`, alt: image.name, title: image.name }));
  return el("article", { class: "run", "data-job": job.id }, picture,
    el("div", { class: "body" },
      el("div", { class: "head" }, el("span", { class: `state ${job.state}` }, job.state),
        el("span", { class: "muted" }, when(job))),
      el("div", { class: "inputs" }, ...inputs),
      el("p", {}, names(job)),
      el("p", {}, summary(job)),
      job.message ? el("p", {}, job.message) : null,
      el("div", { class: "downloads" }, ...downloads(job)),
      el("button", { class: "small again", type: "button", onclick: () => runAgain(job) }, "Run again with changes")));
}

// Puts a past run's images and settings into the form, to change and start again.
function runAgain(job) {
  form.fill(job.settings);
  content.set([job.inputs.content]);
  styles.set(job.inputs.styles);
  state.parent = job.id;
  $("parent-note").textContent = `Based on the run of ${when(job)}`;
  $("new-run").scrollIntoView({ behavior: "smooth" });
}

start();
