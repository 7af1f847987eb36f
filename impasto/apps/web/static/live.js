// The live card of one job, kept by job id: its image as it is painted, the progress bar and
// time left, the loss curve and its own Stop; once the job ends, its result and downloads.
import { drawLosses } from "./chart.js";
import { el } from "./form.js";
import { downloads, duration, fileUrl, names, summary } from "./runs.js";

export class LiveCard {
  constructor(job, models, onStop) {
    this.id = job.id;
    this.points = [];
    this.iteration = 0;
    this.state = el("span", { class: "state" });
    this.image = el("img", { class: "preview", alt: `The image being painted: ${names(job)}` });
    this.bar = el("span");
    this.text = el("p", { class: "progress-text muted" });
    this.chart = el("canvas", { class: "losses", width: "560", height: "180", "aria-label": "Losses over the iterations" });
    this.message = el("p", { class: "message muted" });
    this.stop = el("button", { class: "stop", type: "button", onclick: () => this.stopping(onStop) }, "Stop");
    this.files = el("span", { class: "downloads" });
    this.node = el("article", { class: "live-card", "data-job": job.id },
      el("div", { class: "head" }, this.state,
        el("div", { class: "what" }, el("p", {}, names(job)), el("p", { class: "muted" }, summary(job, models)))),
      el("div", { class: "preview-frame" }, this.image),
      el("div", { class: "progress" }, el("div", { class: "bar" }, this.bar), this.text),
      this.chart, this.message,
      el("div", { class: "actions" }, this.stop, this.files));
    this.update(job);
  }

  // A page that opens mid-run: the whole loss history and the latest preview at once.
  restore(snapshot) {
    this.points = [];
    this.iteration = 0;
    if (snapshot.preview) this.preview(snapshot.preview);
    this.progress(snapshot);
  }

  progress(event) {
    if (event.iteration < this.iteration) this.points = [];  // run again from the start (its worker was lost)
    this.iteration = event.iteration;
    this.points.push(...event.points);
    const share = event.iterations ? event.iteration / event.iterations : 0;
    this.bar.style.width = `${Math.round(share * 100)}%`;
    const eta = event.eta === null || event.eta === undefined ? "" : ` · about ${duration(event.eta)} left`;
    this.text.textContent = `Iteration ${event.iteration} of ${event.iterations} · ${duration(event.elapsed)} elapsed${eta}`;
    this.draw();
  }

  preview(image) {
    if (this.image.getAttribute("src") !== image) this.image.src = image;
  }

  draw() {
    if (this.node.isConnected && !this.chart.hidden) drawLosses(this.chart, this.points);
  }

  // Running: progress and Stop. Ended: what happened, the result and its downloads.
  update(job) {
    const running = job.state === "running";
    this.state.className = `state ${job.state}`;
    this.state.textContent = job.state;
    this.stop.hidden = !running;
    this.text.hidden = !running;
    this.chart.hidden = !running && this.points.length < 2;  // a past run opened later has no curve here
    this.message.textContent = running ? "" : `${job.state}: ${job.message}`;
    if (!running && job.files.includes("result.png")) this.preview(fileUrl(job, "result.png"));
    if (job.state === "done") this.bar.style.width = "100%";
    this.files.replaceChildren(...(running ? [] : downloads(job)));
  }

  async stopping(onStop) {
    this.stop.disabled = true;
    this.stop.textContent = "Stopping…";
    if (!(await onStop(this.id))) {  // refused or unreachable: it can be pressed again
      this.stop.disabled = false;
      this.stop.textContent = "Stop";
    }
  }
}
