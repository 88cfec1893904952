// Tiny SVG charts for the console: a plate's weight trace and labelled bars. Each chart is an
// <svg role="img"> with a text alternative, and the numbers it draws are also in the page as
// text, so nothing is only in the picture.

const SVG = "http://www.w3.org/2000/svg";

/** An SVG element with attributes (`s("line", {x1: 0, ...})`) and children. */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) el.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return el;
}

function svg(width, height, label) {
  return s("svg", {
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": label,
    class: "chart",
    preserveAspectRatio: "xMidYMid meet",
  });
}

/**
 * A weight trace (`{t0, dt, grams}`) as a line, the change's window [tStart, tEnd] shaded.
 * `label` is the chart's text alternative.
 */
export function traceChart(trace, tStart, tEnd, label) {
  const width = 320;
  const height = 120;
  const pad = { left: 44, right: 8, top: 8, bottom: 20 };
  const grams = trace.grams;
  const t1 = trace.t0 + trace.dt * Math.max(grams.length - 1, 1);
  let low = Math.min(...grams);
  let high = Math.max(...grams);
  if (high - low < 1) {
    low -= 1;
    high += 1;
  }
  const x = (t) => pad.left + ((t - trace.t0) / (t1 - trace.t0)) * (width - pad.left - pad.right);
  const y = (g) => pad.top + ((high - g) / (high - low)) * (height - pad.top - pad.bottom);
  const chart = svg(width, height, label);
  const windowStart = x(Math.max(tStart, trace.t0));
  const windowEnd = x(Math.min(tEnd, t1));
  chart.append(
    s("rect", {
      class: "window",
      x: windowStart,
      y: pad.top,
      width: Math.max(windowEnd - windowStart, 1),
      height: height - pad.top - pad.bottom,
    }),
    s("line", { class: "axis", x1: pad.left, y1: pad.top, x2: pad.left, y2: y(low) }),
    s("line", { class: "axis", x1: pad.left, y1: y(low), x2: width - pad.right, y2: y(low) }),
    s("text", { x: pad.left - 4, y: y(high) + 4, "text-anchor": "end" }, `${Math.round(high)} g`),
    s("text", { x: pad.left - 4, y: y(low), "text-anchor": "end" }, `${Math.round(low)} g`),
    s("text", { x: pad.left, y: height - 4 }, `${trace.t0.toFixed(1)} s`),
    s("text", { x: width - pad.right, y: height - 4, "text-anchor": "end" }, `${t1.toFixed(1)} s`),
    s("polyline", {
      class: "trace",
      points: grams.map((g, i) => `${x(trace.t0 + i * trace.dt)},${y(g)}`).join(" "),
    }),
  );
  return chart;
}

/** Horizontal bars: `rows` is [{label, value, text}] (`text` is the value as shown). */
export function barChart(rows, label) {
  const rowHeight = 26;
  const width = 320;
  const labelWidth = 110;
  const height = Math.max(rows.length, 1) * rowHeight;
  const top = Math.max(...rows.map((r) => r.value), 1);
  const chart = svg(width, height, label);
  rows.forEach((row, i) => {
    const y = i * rowHeight;
    const length = ((width - labelWidth - 50) * row.value) / top;
    chart.append(
      s("text", { x: labelWidth - 6, y: y + 17, "text-anchor": "end" }, row.label),
      s("rect", { class: "bar", x: labelWidth, y: y + 5, width: Math.max(length, 1), height: 16 }),
      s("text", { x: labelWidth + length + 4, y: y + 17 }, row.text ?? String(row.value)),
    );
  });
  return chart;
}
