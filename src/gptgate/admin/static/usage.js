// Usage: token charts over time (by key, account or model), totals, and the latest requests.
import { api, optional, h, s, replace, num, when, badge, empty } from "./lib.js";

const RANGES = { "1h": [3600, 60], "24h": [86400, 1800], "7d": [604800, 21600] };
const COLORS = ["#2563eb", "#059669", "#d97706", "#db2777", "#7c3aed", "#0891b2", "#65a30d", "#dc2626", "#4b5563"];

let keyNames = new Map();
const keyName = (id) => (id ? keyNames.get(id) || id : "–");

export function usagePage(root) {
  const state = { range: "24h", by: "model" };
  const chart = h("div", { id: "usage-chart" });
  const requestsChart = h("div", { id: "usage-requests-chart" });
  const totals = h("div", { class: "scroll" });
  const latest = h("div", { class: "scroll" });
  const seg = (name, values) => h("div", { class: "seg", id: `seg-${name}` }, values.map((v) =>
    h("button", { type: "button", class: state[name] === v ? "on" : "", dataset: { value: v }, onclick: (ev) => {
      state[name] = v;
      for (const b of ev.target.parentNode.children) b.classList.toggle("on", b.dataset.value === v);
      refresh();
    } }, v)));
  replace(root,
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Usage"),
      h("div", { class: "sub" }, "Tokens and requests through the gateway, by client key, account and model.")),
      h("div", { class: "actions" }, seg("by", ["key", "account", "model"]), seg("range", Object.keys(RANGES)),
        h("a", { class: "btn", href: "/admin/api/usage/export?format=csv", id: "usage-csv" }, "Export CSV"),
        h("a", { class: "btn", href: "/admin/api/usage/export?format=json" }, "JSON"))),
    h("div", { class: "panel" }, h("div", { class: "panel-head" }, h("h2", {}, "Tokens over time")), chart),
    h("div", { class: "panel", id: "usage-more" },
      h("div", { class: "panel-head" }, h("h2", {}, "Requests over time")), requestsChart),
    h("div", { class: "panel usage-more" }, h("div", { class: "panel-head" }, h("h2", {}, "Totals")), totals),
    h("div", { class: "panel usage-more" }, h("div", { class: "panel-head" }, h("h2", {}, "Latest requests"), h("span", { class: "muted" }, "errors first")), latest));
  const more = () => [document.getElementById("usage-more"), ...document.querySelectorAll(".usage-more")];

  const refresh = async () => {
    const [seconds, bucket] = RANGES[state.range];
    const since = Math.floor(Date.now() / 1000) - seconds;
    const [series, summary, reqs, keys] = await Promise.all([
      optional(`/usage/series?since=${since}&bucket=${bucket}&by=${state.by}`),
      optional(`/usage/summary?since=${since}&by=${state.by}`),
      optional("/usage/requests?limit=100"),
      optional("/keys").catch(() => null),
    ]);
    keyNames = new Map(((keys && keys.keys) || []).map((k) => [k.id, k.name]));
    if (series === null && summary === null) {
      const none = empty("Usage accounting is not available on this gateway yet", "Upgrade gptgate to record one row per request and chart it here.");
      replace(chart, none);
      for (const el of more()) el.hidden = true;
      return;
    }
    for (const el of more()) el.hidden = false;
    const label = state.by === "key" ? keyName : (name) => name;
    renderChart(chart, series, "series", "tokens", label);
    renderChart(requestsChart, series, "requests", "requests", label);
    renderTotals(totals, summary, state.by);
    renderLatest(latest, reqs);
  };
  return refresh;
}

function renderChart(el, data, key, unit, label) {
  const buckets = (data && data.buckets) || [];
  const series = Object.entries((data && data[key]) || {});
  if (!buckets.length || !series.length || series.every(([, v]) => v.every((x) => !x))) {
    replace(el, empty(`No ${unit} in this period`, "Send a request with a client key and it appears here within seconds."));
    return;
  }
  const W = 1200, H = 240, L = 56, R = 16, T = 14, B = 28;
  const step = niceStep(Math.max(1, ...series.flatMap(([, v]) => v)) / 4);
  const max = step * Math.ceil(Math.max(1, ...series.flatMap(([, v]) => v)) / step);
  const x = (i) => L + (buckets.length === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (buckets.length - 1));
  const y = (v) => T + (H - T - B) * (1 - v / max);
  const levels = [];
  for (let v = 0; v <= max + step / 2; v += step) levels.push(v);
  const grid = levels.map((v) => s("g", {},
    s("line", { x1: L, x2: W - R, y1: y(v), y2: y(v) }),
    s("text", { x: L - 8, y: y(v) + 4, "text-anchor": "end" }, num(v))));
  const ticks = [];
  const every = Math.max(1, Math.ceil(buckets.length / 8));
  for (let i = 0; i < buckets.length; i += every) {
    const d = new Date(buckets[i] * 1000);
    const label = buckets[buckets.length - 1] - buckets[0] > 86400 * 1.5
      ? d.toLocaleDateString("en-GB", { day: "numeric", month: "short" })
      : d.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
    ticks.push(s("text", { x: x(i), y: H - 8, "text-anchor": "middle" }, label));
  }
  const lines = series.map(([, values], n) => {
    const color = COLORS[n % COLORS.length];
    const pts = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    const area = `${x(0).toFixed(1)},${y(0)} ${pts} ${x(values.length - 1).toFixed(1)},${y(0)}`;
    return s("g", {},
      s("polygon", { points: area, fill: color, "fill-opacity": 0.08 }),
      s("polyline", { points: pts, fill: "none", stroke: color, "stroke-width": 2, "stroke-linejoin": "round" }),
      values.map((v, i) => (v ? s("circle", { cx: x(i), cy: y(v), r: 2.5, fill: color }, s("title", {}, `${num(v)} ${unit}`)) : null)));
  });
  const svg = s("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", role: "img", "aria-label": `${unit} over time` },
    s("g", { class: "grid axis" }, grid), s("g", { class: "axis" }, ticks), lines);
  const legend = h("div", { class: "legend" }, series.map(([name, values], n) => {
    const sw = h("span", { class: "swatch" });
    sw.style.background = COLORS[n % COLORS.length];
    return h("span", {}, sw, `${label(name)} · ${num(values.reduce((a, b) => a + b, 0))}`);
  }));
  replace(el, h("div", { class: "panel-body" }, svg), legend);
}

// 1, 2 or 5 times a power of ten, at least 1: whole-number gridlines for counts.
function niceStep(raw) {
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  const f = raw / p;
  return Math.max(1, (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p);
}

function renderTotals(el, data, by) {
  const rows = (data && data.rows) || [];
  if (!rows.length) { replace(el, empty("Nothing recorded in this period", "Totals per key, account and model appear once requests flow.")); return; }
  replace(el, h("table", { class: "table", id: "usage-totals" },
    h("thead", {}, h("tr", {}, ["Group", "Requests", "Errors", "Input", "Cached", "Output", "Reasoning", "Cache hits"].map((t, i) => h("th", { class: i ? "num" : "" }, t)))),
    h("tbody", {}, rows.map((r) => h("tr", {},
      h("td", { class: "name" }, by === "key" ? keyName(r.group) : (r.group ?? "–")),
      h("td", { class: "num" }, num(r.requests)), h("td", { class: "num" }, num(r.errors)),
      h("td", { class: "num" }, num(r.input_tokens)), h("td", { class: "num" }, num(r.cached_tokens)),
      h("td", { class: "num" }, num(r.output_tokens)), h("td", { class: "num" }, num(r.reasoning_tokens)),
      h("td", { class: "num" }, r.cache_hit_share != null ? `${Math.round(r.cache_hit_share * 100)}%` : "–"))))));
}

function renderLatest(el, data) {
  const rows = (data && data.rows) || [];
  if (!rows.length) { replace(el, empty("No requests yet", "The latest requests show here, failed ones first.")); return; }
  replace(el, h("table", { class: "table", id: "usage-requests" },
    h("thead", {}, h("tr", {}, ["Time", "Key", "Account", "Door", "Model", "In", "Cached", "Out", "TTFT", "Duration", "Status"].map((t) => h("th", {}, t)))),
    h("tbody", {}, rows.map((r) => {
      const failed = r.error_class || (r.status && r.status >= 400);
      return h("tr", { class: failed ? "error-row" : "" },
        h("td", { class: "muted" }, when(r.time)), h("td", {}, keyName(r.key)), h("td", {}, r.account ?? "–"),
        h("td", {}, r.door ?? "–"), h("td", { class: "mono" }, r.model ?? "–"),
        h("td", { class: "num" }, num(r.input_tokens)), h("td", { class: "num" }, num(r.cached_tokens)), h("td", { class: "num" }, num(r.output_tokens)),
        h("td", { class: "num" }, r.ttft_ms != null ? `${Math.round(r.ttft_ms)} ms` : "–"),
        h("td", { class: "num" }, r.duration_ms != null ? `${Math.round(r.duration_ms)} ms` : "–"),
        h("td", {}, failed ? badge(r.error_class || String(r.status), "bad") : badge(String(r.status ?? "ok"), "ok")));
    }))));
}
