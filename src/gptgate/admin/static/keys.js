// Keys: client API keys with limits; the secret is shown once, at creation or rotation.
import { api, optional, h, replace, badge, ago, when, num, toast, dialog, confirmDialog, empty, field, copy } from "./lib.js";

export function keysPage(root) {
  const table = h("div", { class: "scroll" });
  replace(root,
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Keys"),
      h("div", { class: "sub" }, "Client API keys, each with its own limits. Keys are stored hashed: a secret is shown only once.")),
      h("div", { class: "actions" }, h("button", { class: "btn btn-primary", id: "key-create", type: "button", onclick: () => createDialog(refresh) }, "Create key"))),
    h("div", { class: "panel" }, table));
  const refresh = async () => {
    const data = await optional("/keys");
    document.getElementById("key-create").disabled = data === null;
    if (data === null) {
      replace(table, empty("Client keys are not available on this gateway yet",
        "This build has no key management; clients use the api_keys setting. Upgrade gptgate to create keys with limits here."));
      return;
    }
    if (!data.keys.length) {
      replace(table, empty("No client keys yet", "Create a key for each client or person, with the models and limits it may use.",
        h("button", { class: "btn btn-primary", type: "button", onclick: () => createDialog(refresh) }, "Create key")));
      return;
    }
    replace(table, h("table", { class: "table", id: "keys-table" },
      h("thead", {}, h("tr", {}, ["Name", "Key", "Status", "Limits", "Requests", "Tokens in / out", "Last used", "Expires", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, data.keys.map((k) => row(k, refresh)))));
  };
  return refresh;
}

function status(k) {
  if (k.revoked_at) return badge("revoked", "bad");
  if (k.expires_at && new Date(typeof k.expires_at === "number" ? k.expires_at * 1000 : k.expires_at) < new Date()) return badge("expired", "warn");
  return badge("active", "ok");
}

function limitsText(l) {
  if (!l) return "none";
  const parts = [];
  if (l.models && l.models.length) parts.push("models " + l.models.join(", "));
  if (l.rpm) parts.push(`${l.rpm} req/min`);
  if (l.tpm) parts.push(`${num(l.tpm)} tok/min`);
  if (l.concurrency) parts.push(`${l.concurrency} streams`);
  if (l.daily_tokens) parts.push(`${num(l.daily_tokens)}/day`);
  if (l.weekly_tokens) parts.push(`${num(l.weekly_tokens)}/week`);
  if (l.monthly_tokens) parts.push(`${num(l.monthly_tokens)}/month`);
  if (l.max_effort) parts.push("effort ≤ " + l.max_effort);
  if (l.see_quota) parts.push("sees quota");
  return parts.length ? parts.join(" · ") : "none";
}

function row(k, refresh) {
  const u = k.usage || {};
  const act = (label, fn, cls = "") => h("button", { class: "btn btn-sm " + cls, type: "button", dataset: { action: label.toLowerCase() }, onclick: fn }, label);
  const buttons = k.revoked_at ? [] : [
    act("Rotate", async () => {
      if (!await confirmDialog(`Rotate ${k.name}?`, "A new secret replaces the current one, which stops working now.", "Rotate", false)) return;
      try { const r = await api("POST", `/keys/${k.id}/rotate`); showSecret(r.secret, k.name); } catch (err) { toast(err.message, true); }
      refresh();
    }),
    act("Revoke", async () => {
      if (!await confirmDialog(`Revoke ${k.name}?`, "Clients using this key are refused from their next request.", "Revoke")) return;
      try { await api("POST", `/keys/${k.id}/revoke`); toast(`Revoked ${k.name}`); } catch (err) { toast(err.message, true); }
      refresh();
    }, "btn-danger"),
  ];
  return h("tr", { dataset: { id: k.id } },
    h("td", { class: "name" }, k.name || "(unnamed)"),
    h("td", {}, h("code", {}, (k.prefix || k.id) + "…")),
    h("td", {}, status(k)),
    h("td", { class: "muted" }, limitsText(k.limits)),
    h("td", { class: "num" }, num(u.requests || 0)),
    h("td", { class: "num" }, `${num(u.input_tokens || 0)} / ${num(u.output_tokens || 0)}`),
    h("td", { class: "muted" }, typeof k.last_used_at === "number" ? ago(k.last_used_at) : (k.last_used_at ? when(k.last_used_at) : "never")),
    h("td", { class: "muted" }, k.expires_at ? when(k.expires_at) : "never"),
    h("td", {}, h("div", { class: "row-actions" }, buttons)));
}

function input(id, type = "text", attrs = {}) { return h("input", { id, type, ...attrs }); }

function createDialog(refresh) {
  const f = {
    name: input("key-name", "text", { placeholder: "e.g. alice-laptop", required: true }),
    models: input("key-models", "text", { placeholder: "gpt-5*, claude-*  (empty: every model)" }),
    rpm: input("key-rpm", "number", { min: 0, placeholder: "no limit" }),
    tpm: input("key-tpm", "number", { min: 0, placeholder: "no limit" }),
    concurrency: input("key-concurrency", "number", { min: 0, placeholder: "no limit" }),
    daily: input("key-daily", "number", { min: 0, placeholder: "no limit" }),
    weekly: input("key-weekly", "number", { min: 0, placeholder: "no limit" }),
    monthly: input("key-monthly", "number", { min: 0, placeholder: "no limit" }),
    effort: h("select", { id: "key-effort" }, ["", "minimal", "low", "medium", "high", "xhigh"].map((e) => h("option", { value: e }, e || "any"))),
    expires: input("key-expires", "datetime-local"),
    quota: input("key-see-quota", "checkbox"),
  };
  const error = h("div");
  dialog("Create a client key", h("div", {},
    field("Name", f.name),
    field("Allowed models", f.models, "Comma-separated globs."),
    h("div", { class: "grid-3" }, field("Requests / min", f.rpm), field("Tokens / min", f.tpm), field("Concurrent streams", f.concurrency)),
    h("div", { class: "grid-3" }, field("Tokens / day", f.daily), field("Tokens / week", f.weekly), field("Tokens / month", f.monthly)),
    h("div", { class: "grid-2" }, field("Max reasoning effort", f.effort), field("Expires", f.expires)),
    h("label", { class: "check" }, f.quota, "May see the pool's quota figures"),
    error,
  ), [
    { label: "Cancel", onclick: (close) => close() },
    { label: "Create key", kind: "btn-primary", id: "key-submit", onclick: async (close) => {
      const n = (el) => (el.value === "" ? undefined : Number(el.value));
      const limits = {
        models: f.models.value.split(",").map((m) => m.trim()).filter(Boolean),
        rpm: n(f.rpm), tpm: n(f.tpm), concurrency: n(f.concurrency),
        daily_tokens: n(f.daily), weekly_tokens: n(f.weekly), monthly_tokens: n(f.monthly),
        max_effort: f.effort.value || undefined, see_quota: f.quota.checked,
      };
      const body = { name: f.name.value.trim(), limits };
      if (f.expires.value) body.expires_at = new Date(f.expires.value).getTime() / 1000;
      try {
        const r = await api("POST", "/keys", body);
        close();
        showSecret(r.secret, body.name);
        refresh();
      } catch (err) {
        replace(error, h("div", { class: "notice bad" }, err.message));
      }
    } },
  ]);
  f.name.focus();
}

function showSecret(secret, name) {
  dialog(`Key ${name}`, h("div", {},
    h("div", { class: "notice" }, "Copy this secret now: it is stored hashed and will not be shown again."),
    h("div", { class: "secret-box" }, h("code", { id: "key-secret" }, secret),
      h("button", { class: "btn btn-sm", type: "button", id: "key-copy", onclick: () => copy(secret) }, "Copy"))),
  [{ label: "Done", kind: "btn-primary", id: "key-done", onclick: (close) => close() }]);
}
