// The loss curve: total, content and style loss over the iterations, log scale, on a canvas.

const SERIES = [["total", "#23201c"], ["style", "#b4532a"], ["content", "#3f6fb0"]];
const PAD = { left: 52, right: 12, top: 12, bottom: 24 };
const DECADES = 5;  // the y axis spans at most this many powers of ten below the largest loss

export function drawLosses(canvas, points) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || canvas.width;
  const height = Math.max(110, Math.round(width * 0.32));
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  const g = canvas.getContext("2d");
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);
  g.font = "11px system-ui, sans-serif";
  const values = points.flatMap((p) => SERIES.map(([key]) => p[key])).filter((v) => v > 0);
  if (points.length < 2 || !values.length) {
    g.fillStyle = "#6d665e";
    g.textAlign = "center";
    g.fillText("The losses appear here as the run goes.", width / 2, height / 2);
    return;
  }
  const top = Math.ceil(Math.log10(Math.max(...values)));
  const low = Math.max(top - DECADES, Math.floor(Math.log10(Math.min(...values))));
  const high = Math.max(low + 1, top);
  const last = points[points.length - 1].i || 1;
  const x = (i) => PAD.left + (i / last) * (width - PAD.left - PAD.right);
  const y = (v) => PAD.top + (1 - (Math.max(Math.log10(v), low) - low) / (high - low)) * (height - PAD.top - PAD.bottom);
  g.strokeStyle = "#e2dcd3";
  g.fillStyle = "#6d665e";
  for (let power = low; power <= high; power++) {
    g.beginPath();
    g.moveTo(PAD.left, y(10 ** power));
    g.lineTo(width - PAD.right, y(10 ** power));
    g.stroke();
    g.fillText(`1e${power}`, 8, y(10 ** power) + 4);
  }
  let legend = PAD.left + 6;
  for (const [key, colour] of SERIES) {
    g.strokeStyle = colour;
    g.lineWidth = 1.6;
    g.beginPath();
    let drawing = false;
    for (const p of points) {
      if (!(p[key] > 0)) { drawing = false; continue; }
      if (drawing) g.lineTo(x(p.i), y(p[key]));
      else g.moveTo(x(p.i), y(p[key]));
      drawing = true;
    }
    g.stroke();
    g.fillStyle = colour;
    g.fillText(key, legend, height - 6);
    legend += g.measureText(key).width + 14;
  }
  g.lineWidth = 1;
  const label = [`iteration ${last}`, `${last}`].find((text) => width - PAD.right - g.measureText(text).width > legend);
  g.fillStyle = "#6d665e";
  if (label) g.fillText(label, width - PAD.right - g.measureText(label).width, height - 6);  // a narrow card: the number
}
