// Shared helpers of the console: DOM building, the API client, formatting, dialogs, toasts.

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.error && body.error.code;
  }
}

let onSignedOut = () => {};
export function whenSignedOut(fn) { onSignedOut = fn; }

// Every call carries the CSRF header; a 401 sends the user back to the sign-in page.
export async function api(method, path, body) {
  const init = { method, headers: { "X-Requested-With": "gptgate" }, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const resp = await fetch("/admin/api" + path, init);
  let data = null;
  const text = await resp.text();
  if (text) { try { data = JSON.parse(text); } catch { data = null; } }
  if (resp.status === 401 && path !== "/login") onSignedOut();
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

// An optional API (keys, usage): null when the server does not have it yet.
export async function optional(path) {
  try { return await api("GET", path); } catch (err) {
    if (err.status === 404 || err.status === 405) return null;
    throw err;
  }
}

export function h(tag, attrs, ...children) {
  const el = document.createElementNS(
    tag === "svg" || attrs?.svg ? "http://www.w3.org/2000/svg" : "http://www.w3.org/1999/xhtml", tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "svg" || v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.setAttribute("class", v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function s(tag, attrs, ...children) { return h(tag, { ...attrs, svg: true }, ...children); }

export function replace(el, ...children) { el.replaceChildren(...children.flat(Infinity).filter((c) => c != null && c !== false)); }

export function num(n) {
  if (n === null || n === undefined) return "–";
  if (Math.abs(n) >= 1e9) return (n / 1e9).toFixed(1) + "B";
  if (Math.abs(n) >= 1e6) return (n / 1e6).toFixed(1) + "M";
  if (Math.abs(n) >= 1e4) return (n / 1e3).toFixed(1) + "k";
  return Number(n).toLocaleString("en-US");
}

export function span(seconds) {
  const sec = Math.max(0, Math.round(Math.abs(seconds)));
  const d = Math.floor(sec / 86400), hr = Math.floor((sec % 86400) / 3600), m = Math.floor((sec % 3600) / 60);
  if (d) return `${d}d ${hr}h`;
  if (hr) return `${hr}h ${m}m`;
  if (m) return `${m}m`;
  return `${sec}s`;
}

export function until(epoch) {
  if (!epoch) return "–";
  const left = epoch - Date.now() / 1000;
  return left > 0 ? "in " + span(left) : span(-left) + " ago";
}

export function ago(epoch) {
  if (!epoch) return "never";
  return span(Date.now() / 1000 - epoch) + " ago";
}

export function when(epoch) {
  if (!epoch) return "–";
  const d = typeof epoch === "number" ? new Date(epoch * 1000) : new Date(epoch);
  return d.toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
}

export function badge(text, kind) {
  return h("span", { class: "badge " + (kind || "") }, h("span", { class: "dot" }), text);
}

let toastTimer = 0;
export function toast(message, bad = false) {
  const el = document.getElementById("toast");
  el.textContent = message;
  el.className = "toast" + (bad ? " bad" : "");
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 4000);
}

// A modal dialog; `body` is a node, `buttons` [{label, kind, onclick(close)}]. Returns close().
export function dialog(title, body, buttons = []) {
  const el = document.getElementById("dialog");
  const close = () => { if (el.open) el.close(); el.replaceChildren(); };
  replace(el,
    h("div", { class: "dialog-head" }, h("h2", {}, title),
      h("button", { class: "btn btn-ghost close", type: "button", "aria-label": "Close", onclick: close }, "✕")),
    h("div", { class: "dialog-body" }, body),
    buttons.length ? h("div", { class: "dialog-foot" }, buttons.map((b) =>
      h("button", { class: "btn " + (b.kind || ""), type: "button", id: b.id, onclick: () => b.onclick(close) }, b.label))) : null);
  // "close" fires after a tick: by then another dialog may have opened in this one's place.
  el.onclose = () => { if (!el.open) el.replaceChildren(); };
  if (!el.open) el.showModal();
  return close;
}

export function dialogOpen() { return document.getElementById("dialog").open; }

export function confirmDialog(title, text, label, danger = true) {
  return new Promise((resolve) => {
    dialog(title, h("p", {}, text), [
      { label: "Cancel", onclick: (close) => { close(); resolve(false); } },
      { label, kind: danger ? "btn-danger-solid" : "btn-primary", id: "confirm-ok", onclick: (close) => { close(); resolve(true); } },
    ]);
  });
}

export function empty(title, text, ...actions) {
  return h("div", { class: "empty" }, h("h3", {}, title), h("p", {}, text), actions.length ? h("div", {}, actions) : null);
}

export function field(label, input, hint) {
  return h("div", { class: "field" }, h("label", { for: input.id }, label), input, hint ? h("div", { class: "hint" }, hint) : null);
}

export async function copy(text) {
  try { await navigator.clipboard.writeText(text); toast("Copied to the clipboard"); }
  catch { toast("Copy failed: select the text and copy it", true); }
}
