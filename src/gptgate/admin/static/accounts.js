// Accounts: the pool's table (plan, health, cooldown, quota bars, burn projection) and every action.
import { api, optional, h, replace, badge, until, ago, toast, dialog, confirmDialog, empty, field, copy } from "./lib.js";

const STATUS = { active: "ok", disabled: "", needs_relogin: "warn", deactivated: "bad" };

export function accountsPage(root) {
  const cards = h("div", { class: "cards" });
  const table = h("div", { class: "scroll" });
  const actions = h("div", { class: "actions" },
    h("button", { class: "btn btn-primary", id: "signin-device", type: "button", onclick: deviceSignIn }, "Sign in with ChatGPT"),
    h("button", { class: "btn", id: "upload-open", type: "button", onclick: upload }, "Upload tokens"),
    h("button", { class: "btn", id: "export-open", type: "button", onclick: exportDialog }, "Export"),
    h("button", { class: "btn btn-danger", id: "clear-all", type: "button", onclick: clearAll }, "Clear all"));
  replace(root,
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Accounts"),
      h("div", { class: "sub" }, "The ChatGPT logins the gateway serves from. Changes reach every worker within seconds.")), actions),
    cards,
    h("div", { class: "panel" }, table));

  let hasStore = true;
  const refresh = async () => {
    const [data, pool] = await Promise.all([api("GET", "/accounts"), optional("/pool")]);
    hasStore = data.store;
    for (const id of ["upload-open", "export-open", "clear-all", "signin-device"]) {
      document.getElementById(id).disabled = !hasStore;
    }
    const burn = new Map(((pool && pool.accounts) || (Array.isArray(pool) ? pool : [])).map((p) => [p.id, p]));
    renderCards(cards, data.accounts);
    renderTable(table, data.accounts, burn, hasStore, refresh);
  };
  return refresh;

  async function clearAll() {
    if (!await confirmDialog("Remove every account?", "Every stored account and its tokens are deleted. Clients are served by no account until you add one.", "Remove all")) return;
    const r = await api("POST", "/accounts/clear", { confirm: "remove all" });
    toast(`Removed ${r.removed} accounts`);
    refresh();
  }
  function upload() { uploadDialog(refresh); }
  function deviceSignIn() { deviceDialog(refresh); }
}

function renderCards(el, accounts) {
  const count = (pred) => accounts.filter(pred).length;
  const card = (label, value) => h("div", { class: "card" }, h("div", { class: "label" }, label), h("div", { class: "value" }, value));
  replace(el,
    card("Accounts", accounts.length),
    card("Serving", count((a) => a.health === "ok")),
    card("Cooling down", count((a) => a.health === "cooling")),
    card("Out of service", count((a) => a.health === "down")));
}

function renderTable(el, accounts, burn, hasStore, refresh) {
  if (!accounts.length) {
    replace(el, empty("No accounts yet",
      "Upload access or refresh tokens (or Codex auth.json files, or another gateway's export), or sign in with a ChatGPT account.",
      h("button", { class: "btn btn-primary", type: "button", onclick: () => uploadDialog(refresh) }, "Upload tokens")));
    return;
  }
  const rows = accounts.map((a) => {
    const p = burn.get(a.id) || {};
    const pick = (name) => (p.windows && p.windows[name]) || (a.windows && a.windows[name]);
    const windows = { primary: pick("primary"), secondary: pick("secondary") };
    return h("tr", { dataset: { id: a.id } },
      h("td", { class: "who" }, h("div", { class: "name" }, a.name),
        h("div", { class: "muted" }, a.email && a.email !== a.name ? a.email : shortId(a.account_id))),
      h("td", {}, a.plan ? badge(a.plan, "info") : h("span", { class: "muted" }, "–")),
      h("td", {}, badge(a.status.replace("_", " "), STATUS[a.status] ?? ""),
        a.status_reason ? h("div", { class: "muted" }, a.status_reason) : null),
      h("td", {}, a.cooldown_until ? h("span", {}, badge("cooling", "warn"), " ", h("span", { class: "muted" }, until(a.cooldown_until)))
        : h("span", { class: "muted" }, "–")),
      h("td", {}, quota(windows.primary, "5h")),
      h("td", {}, quota(windows.secondary, "week")),
      h("td", { class: "muted" }, p.cache_hit_share != null ? `${Math.round(p.cache_hit_share * 100)}%` : "–"),
      h("td", { class: "muted" }, ago(a.last_used_at)),
      h("td", {}, h("div", { class: "row-actions" }, actionsFor(a, hasStore, refresh))));
  });
  replace(el, h("table", { class: "table", id: "accounts-table" },
    h("thead", {}, h("tr", {}, ["Account", "Plan", "Status", "Cooldown", "5-hour window", "Weekly window", "Cache hits", "Last used", ""].map((t) => h("th", {}, t)))),
    h("tbody", {}, rows)));
}

function shortId(id) {
  if (!id) return "identity known after the first refresh";
  return id.length > 13 ? `account ${id.slice(0, 8)}…` : `account ${id}`;
}

function quota(w, label) {
  if (!w || w.used_percent == null) return h("span", { class: "muted" }, "no data yet");
  const used = Math.min(100, Math.max(0, w.used_percent));
  const fill = h("div", { class: "fill" + (used >= 90 ? " bad" : used >= 70 ? " warn" : "") });
  fill.style.width = used + "%";
  const projection = w.projected_exhaustion_at
    ? h("div", { class: "meta" }, h("span", { class: "warn-text" }, "runs out " + until(w.projected_exhaustion_at))) : null;
  return h("div", { class: "quota", title: `${label} window` },
    h("div", { class: "bar" }, fill),
    h("div", { class: "meta" }, h("span", {}, `${Math.round(used)}% used`), h("span", {}, w.resets_at ? "resets " + until(w.resets_at) : "")),
    projection);
}

function actionsFor(a, hasStore, refresh) {
  const act = (label, fn, cls = "") => h("button", { class: "btn btn-sm " + cls, type: "button", dataset: { action: label.toLowerCase() }, onclick: fn }, label);
  const run = (path, done) => async () => {
    try {
      const r = await api("POST", `/accounts/${encodeURIComponent(a.id)}/${path}`);
      toast(done(r), r.ok === false);
    } catch (err) { toast(err.message, true); }
    refresh();
  };
  const out = [
    act("Test", run("test", (r) => `${a.name}: ${r.message}`)),
    act("Refresh", run("refresh", (r) => `${a.name}: ${r.message}`)),
  ];
  if (hasStore && a.source === "store") {
    out.push(a.status === "disabled"
      ? act("Enable", run("enable", () => `${a.name} is back in service`))
      : act("Disable", run("disable", () => `${a.name} is out of service`)));
    out.push(act("Remove", async () => {
      if (!await confirmDialog(`Remove ${a.name}?`, "The account and its tokens are deleted from the store.", "Remove")) return;
      await api("DELETE", `/accounts/${encodeURIComponent(a.id)}`).catch((err) => toast(err.message, true));
      toast(`Removed ${a.name}`);
      refresh();
    }, "btn-danger"));
  }
  return out;
}

// -- bulk upload (like chat2api's /tokens page: paste, or pick several files)
function uploadDialog(refresh) {
  const text = h("textarea", { id: "upload-text", placeholder: "One token per line (access token, refresh token rt_…, or session token),\nor paste an auth.json / JSON export." });
  const files = h("input", { type: "file", id: "upload-files", multiple: true, accept: ".json,.txt,.jsonl,application/json,text/plain" });
  const passphrase = h("input", { type: "password", id: "upload-passphrase", placeholder: "only for an encrypted codex-lb bundle" });
  const result = h("div", { id: "upload-result" });
  const body = h("div", {},
    field("Tokens or file contents", text, "Accepted: tokens per line, Codex CLI auth.json, JSON or JSONL of accounts, CLIProxyAPI auth files, sub2api and codex-lb exports."),
    field("Files", files, "Choose one or several files."),
    field("Bundle passphrase", passphrase),
    result);
  dialog("Upload accounts", body, [
    { label: "Cancel", onclick: (close) => close() },
    { label: "Import", kind: "btn-primary", id: "upload-submit", onclick: async () => {
      const picked = await Promise.all([...files.files].map(async (f) => ({ name: f.name, content: await f.text() })));
      try {
        const r = await api("POST", "/accounts/import", { text: text.value, files: picked, passphrase: passphrase.value || undefined });
        replace(result, h("div", { class: "notice " + (r.failed.length ? "bad" : "info") },
          `Added ${r.added.length}, skipped ${r.skipped} already stored, failed ${r.failed.length}.`),
        r.failed.length ? h("ul", { class: "result-list" }, r.failed.map((f) => h("li", {}, f))) : null);
        text.value = "";
        files.value = "";
        refresh();
      } catch (err) {
        replace(result, h("div", { class: "notice bad" }, err.message));
      }
    } },
  ]);
  text.focus();
}

// -- device-code sign-in: show the code and link, follow the flow until the account is added
async function deviceDialog(refresh) {
  let flow;
  try { flow = await api("POST", "/oauth/device/start"); } catch (err) { toast(err.message, true); return; }
  const status = h("div", { class: "notice info", id: "device-status" }, "Waiting for you to approve the sign-in…");
  const link = h("a", { href: flow.verification_uri, target: "_blank", rel: "noopener", id: "device-link" }, flow.verification_uri);
  const code = h("div", { class: "user-code", id: "device-code" }, flow.user_code);
  const close = dialog("Sign in with ChatGPT", h("div", {},
    h("p", {}, "1. Open ", link, " and sign in to the ChatGPT account to add."),
    h("p", {}, "2. Enter this one-time code:"), code,
    h("p", { class: "muted" }, `The code expires in ${Math.round(flow.expires_in / 60)} minutes. Never share it with anyone.`),
    status,
  ), [
    { label: "Copy code", onclick: () => copy(flow.user_code) },
    { label: "Done", kind: "btn-primary", onclick: (c) => c() },
  ]);
  const deadline = Date.now() + flow.expires_in * 1000;
  while (Date.now() < deadline && document.getElementById("device-status")) {
    await new Promise((r) => setTimeout(r, 1500));
    let state;
    try { state = await api("GET", `/oauth/device/${flow.id}`); } catch { continue; }
    if (state.status === "pending") continue;
    const el = document.getElementById("device-status");
    if (!el) break;
    if (state.status === "added") {
      el.className = "notice info";
      el.textContent = state.account ? `Added ${state.account.name}${state.account.plan ? ` (${state.account.plan})` : ""}.` : (state.message || "Added.");
      refresh();
    } else {
      el.className = "notice bad";
      el.textContent = `Sign-in ${state.status}: ${state.message || ""}`;
    }
    break;
  }
  return close;
}

// -- export: secrets leave the gateway, so the operator confirms first
function exportDialog() {
  const format = h("select", { id: "export-format" },
    h("option", { value: "gptgate" }, "gptgate (JSON)"),
    h("option", { value: "cliproxyapi" }, "CLIProxyAPI auth files (JSON array)"),
    h("option", { value: "sub2api" }, "sub2api data export"),
    h("option", { value: "codex-lb" }, "codex-lb account bundle (unencrypted payload)"));
  dialog("Export accounts", h("div", {},
    h("div", { class: "notice" }, "The file holds every account's access and refresh tokens. Anyone with it can use these accounts: keep it safe."),
    field("Format", format)), [
    { label: "Cancel", onclick: (close) => close() },
    { label: "Download with tokens", kind: "btn-danger-solid", id: "export-confirm", onclick: (close) => {
      const a = h("a", { href: `/admin/api/accounts/export?format=${format.value}&confirm=true`, download: "" });
      document.body.append(a);
      a.click();
      a.remove();
      close();
    } },
  ]);
}
