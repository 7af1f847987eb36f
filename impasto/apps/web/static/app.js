// The page: the new-run form, one live card per running job (fed by server-sent events and
// kept by job id), the queue and the gallery of past runs.
import { ImageSlot, SettingsForm, clearErrors, el, showError } from "./form.js";
import { LiveCard } from "./live.js";
import { ACTIVE, downloads, fileUrl, names, summary, when } from "./runs.js";

const $ = (id) => document.getElementById(id);

// cards: the live card of each running job, and of the last run once nothing runs.
const state = { jobs: new Map(), cards: new Map(), last: null, parent: null };
let form, content, styles, models;

async function start() {
  const schema = await (await fetch("/api/config")).json();
  models = schema.models;
  form = new SettingsForm(schema);
  form.fill();
  content = new ImageSlot("content", false, schema.max_upload_bytes, updateStart);
  styles = new ImageSlot("styles", true, schema.max_upload_bytes, updateStart);
  $("start").addEventListener("click", submit);
  window.addEventListener("resize", () => state.cards.forEach((card) => card.draw()));
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

// Stops a running job or cancels a queued one; true when the server took it.
async function stopJob(id) {
  try {
    const response = await fetch(`/api/jobs/${id}/stop`, { method: "POST" });
    if (response.ok) upsert(await response.json());
    return response.ok;
  } catch {
    return false;
  }
}

// Server-sent events: "hello" (everything now), then job changes, progress and previews.
function listen() {
  const source = new EventSource("/api/events");
  source.onopen = () => setConnection("connected", "ok");
  source.onerror = () => { setConnection("reconnecting…", "down"); checkToken(source); };
  source.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "hello") hello(event);
    else if (event.type === "job") upsert(event.job);
    else if (event.type === "progress") liveCard(event.job)?.progress(event);
    else if (event.type === "preview") liveCard(event.job)?.preview(event.image);
    else if (event.type === "resync") { source.close(); listen(); }
  };
}

// A stream refused for its token (the server restarted with another one) would retry forever.
async function checkToken(source) {
  const answer = await fetch("/api/config").catch(() => null);
  if (answer && (answer.status === 401 || answer.status === 403)) {
    source.close();
    setConnection("open the link with the token that impasto serve printed", "down");
  }
}

function setConnection(text, kind) {
  $("connection").textContent = text;
  $("connection").className = `pill ${kind}`;
}

function hello(event) {
  state.jobs = new Map(event.jobs.map((job) => [job.id, job]));
  state.cards = new Map();
  for (const snapshot of event.live) liveCard(snapshot.job)?.restore(snapshot);
  const last = event.jobs.find((job) => !ACTIVE.includes(job.state) && job.state !== "cancelled");  // newest first
  state.last = last ? last.id : null;
  render();
  state.cards.forEach((card) => card.draw());
}

function upsert(job) {
  state.jobs.set(job.id, job);
  if (state.cards.has(job.id) && !ACTIVE.includes(job.state)) state.last = job.id;
  render();
}

// The card of a running job, made when first needed: progress may come before its "job" event.
function liveCard(id) {
  const job = state.jobs.get(id);
  if (!job || !ACTIVE.includes(job.state)) return state.cards.get(id);
  if (job.state === "queued") state.jobs.set(id, { ...job, state: "running" });
  if (!state.cards.has(id)) {
    state.cards.set(id, new LiveCard(state.jobs.get(id), models, stopJob));
    render();
  }
  return state.cards.get(id);
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

// Running jobs in the order they were started; once none runs, the last one to end.
function renderLive() {
  const running = [...state.jobs.values()].filter((job) => job.state === "running").sort((a, b) => a.created - b.created);
  const lastJob = state.jobs.get(state.last);
  const shown = running.length || !lastJob ? running : [lastJob];
  for (const job of shown) {
    if (!state.cards.has(job.id)) state.cards.set(job.id, new LiveCard(job, models, stopJob));
    state.cards.get(job.id).update(job);
  }
  const ids = new Set(shown.map((job) => job.id));
  for (const id of state.cards.keys()) if (!ids.has(id)) state.cards.delete(id);
  const nodes = shown.map((job) => state.cards.get(job.id).node);
  const list = $("live-cards");
  if (nodes.length !== list.children.length || nodes.some((node, i) => list.children[i] !== node)) {
    list.replaceChildren(...nodes);
    state.cards.forEach((card) => card.draw());
  }
  list.classList.toggle("several", nodes.length > 1);
  $("live-title").textContent = running.length || !nodes.length ? "Now running" : "Last run";
  $("live-empty").hidden = nodes.length > 0;
}

function queueItem(job) {
  const running = job.state === "running";
  return el("li", { "data-job": job.id },
    el("span", { class: `state ${job.state}` }, job.state),
    el("div", { class: "what" }, el("p", {}, names(job)), el("p", { class: "muted" }, summary(job, models))),
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
      el("p", {}, summary(job, models)),
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
