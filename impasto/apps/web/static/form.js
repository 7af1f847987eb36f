// The "New run" card: the settings form built from the server's description of Settings,
// and the photo/artwork drop zones that upload each image as soon as it is added.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

export function showError(field, message) {
  const slot = document.querySelector(`[data-error-for="${field}"]`) || document.querySelector('[data-error-for="form"]');
  slot.textContent = message;
  const box = document.getElementById(`field-${field}`);
  if (box) {
    box.classList.add("invalid");
    box.closest("details")?.setAttribute("open", "");
    box.querySelector("input, select")?.focus();
  }
}

export function clearErrors() {
  document.querySelectorAll("[data-error-for]").forEach((slot) => { slot.textContent = ""; });
  document.querySelectorAll(".field.invalid").forEach((box) => box.classList.remove("invalid"));
}

export class SettingsForm {
  constructor(schema) {
    this.schema = schema;
    for (const field of schema.fields) {
      const group = document.getElementById(`fields-${field.group}`);
      group.append(this.fieldBox(field));
    }
    this.input("model").addEventListener("change", () => this.showNetworkDefaults());
    this.showNetworkDefaults();
  }

  input(name) { return document.getElementById(`f-${name}`); }

  fieldBox(field) {
    const id = `f-${field.name}`;
    const help = el("p", { class: "help" }, field.help);
    if (field.kind === "bool") {
      const box = el("input", { type: "checkbox", id, checked: field.default });
      return el("div", { class: "field check", id: `field-${field.name}` },
        el("label", { for: id }, box, field.label), help, el("p", { class: "error", "data-error-for": field.name }));
    }
    let control;
    if (field.choices) {
      const labels = field.name === "model" ? this.schema.model_labels : {};
      control = el("select", { id }, ...field.choices.map((c) => el("option", { value: c }, labels[c] || c)));
    } else {
      const numeric = field.kind === "int" || field.kind === "float";
      control = el("input", { id, type: numeric ? "number" : "text", step: field.kind === "float" ? "any" : numeric ? "1" : null });
    }
    return el("div", { class: "field", id: `field-${field.name}` },
      el("label", { for: id }, field.label), control, help, el("p", { class: "error", "data-error-for": field.name }));
  }

  // Empty optional fields show what the chosen network fills in.
  showNetworkDefaults() {
    const defaults = this.schema.network_defaults[this.input("model").value] || {};
    for (const field of this.schema.fields) {
      if (field.kind === "bool" || field.choices) continue;
      const value = defaults[field.name] ?? field.default;
      this.input(field.name).placeholder = value === null || value === undefined ? "" : `${format(value)}`;
    }
  }

  // Fills the form: every field from `values`, or its default where `values` lacks it.
  fill(values = {}) {
    for (const field of this.schema.fields) {
      const value = field.name in values ? values[field.name] : field.default;
      const input = this.input(field.name);
      if (field.kind === "bool") input.checked = Boolean(value);
      else input.value = value === null || value === undefined ? "" : format(value);
    }
    this.showNetworkDefaults();
  }

  values() {
    const values = {};
    for (const field of this.schema.fields) {
      const input = this.input(field.name);
      values[field.name] = field.kind === "bool" ? input.checked : input.value.trim();
    }
    return values;
  }
}

function format(value) {
  return Array.isArray(value) ? value.join(", ") : String(value);
}

// A drop zone with a file picker: each image is uploaded at once and shown as a thumbnail.
export class ImageSlot {
  constructor(role, multiple, maxBytes, onChange) {
    this.role = role;
    this.multiple = multiple;
    this.maxBytes = maxBytes;
    this.onChange = onChange;
    this.images = [];
    this.zone = document.getElementById(`drop-${role}`);
    this.picker = document.getElementById(`pick-${role}`);
    this.thumbs = document.getElementById(`thumbs-${role}`);
    this.zone.addEventListener("click", (event) => { if (!event.target.closest(".remove")) this.picker.click(); });
    this.zone.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") this.picker.click(); });
    this.picker.addEventListener("change", () => { this.add([...this.picker.files]); this.picker.value = ""; });
    this.zone.addEventListener("dragover", (event) => { event.preventDefault(); this.zone.classList.add("over"); });
    this.zone.addEventListener("dragleave", () => this.zone.classList.remove("over"));
    this.zone.addEventListener("drop", (event) => {
      event.preventDefault();
      this.zone.classList.remove("over");
      this.add([...event.dataTransfer.files]);
    });
  }

  async add(files) {
    clearErrors();
    for (const file of this.multiple ? files : files.slice(0, 1)) {
      if (file.size > this.maxBytes) {
        showError("images", `${file.name} is over the ${Math.round(this.maxBytes / 2 ** 20)} MB upload limit: use a smaller file`);
        continue;
      }
      const upload = await sendImage(file);
      if (upload) this.set(this.multiple ? [...this.images, upload] : [upload]);
    }
  }

  set(images) {
    this.images = images;
    this.thumbs.replaceChildren(...images.map((image, index) => el("div", { class: "thumb", title: image.name },
      el("img", { src: `/api/uploads/${image.id}/thumb`, alt: image.name }),
      el("span", {}, image.name),
      el("button", { class: "remove", type: "button", "aria-label": `Remove ${image.name}`,
        onclick: () => this.set(this.images.filter((_, i) => i !== index)) }, "×"))));
    this.onChange();
  }
}

async function sendImage(file) {
  let response;
  try {
    response = await fetch("/api/uploads", {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream", "X-Filename": encodeURIComponent(file.name) },
      body: file,
    });
  } catch {
    showError("images", `${file.name} could not be uploaded: the server refused it or is unreachable`);
    return null;
  }
  const body = await response.json().catch(() => ({ message: `upload failed (${response.status})` }));
  if (!response.ok) {
    showError("images", body.message);
    return null;
  }
  return { id: body.id, name: body.name };
}
