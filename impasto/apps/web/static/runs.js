// How a job is described on the page: its images, its settings in one line, its files.
import { el } from "./form.js";

export const ACTIVE = ["queued", "running"];
const FILES = [["result.png", "Result (PNG)"], ["animation.gif", "Animation (GIF)"], ["comparison.png", "Comparison"]];

export function names(job) {
  const styleNames = job.inputs.styles.map((s) => s.name).join(" + ");
  return `${job.inputs.content.name} × ${styleNames}`;
}

export function summary(job, models) {
  const s = job.settings;
  const parts = [models[job.model] || job.model, s.size && `${s.size} px`, s.iterations && `${s.iterations} it.`,
    s.style_weight !== undefined && `style ${s.style_weight}`, s.preserve_color && s.preserve_color !== "none" && `colour: ${s.preserve_color}`,
    s.init && `start: ${s.init}`, s.seed !== undefined && `seed ${s.seed}`];
  return parts.filter(Boolean).join(" · ");
}

export function when(job) {
  return new Date(job.created * 1000).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

export function duration(seconds) {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

export function fileUrl(job, name, download = false) {
  return `/api/jobs/${job.id}/files/${name}${download ? "?download" : `?v=${job.finished || 0}`}`;
}

export function downloads(job) {
  return FILES.filter(([name]) => job.files.includes(name))
    .map(([name, label]) => el("a", { href: fileUrl(job, name, true), download: "" }, label));
}
