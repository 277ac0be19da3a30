// The console shell: sign-in, hash routing, and the polling loop that keeps the page live.
import { api, h, replace, toast, whenSignedOut, dialogOpen, badge } from "./lib.js";
import { accountsPage } from "./accounts.js";
import { keysPage } from "./keys.js";
import { usagePage } from "./usage.js";

const POLL_MS = 4000;
const main = document.getElementById("main");
let current = null;   // {name, refresh()}
let timer = 0;

const PAGES = { accounts: accountsPage, keys: keysPage, usage: usagePage, settings: settingsPage };

function signIn(message) {
  clearInterval(timer);
  current = null;
  document.getElementById("topbar").hidden = true;
  const password = h("input", { type: "password", id: "password", autocomplete: "current-password", required: true, placeholder: "Admin password" });
  const error = h("div", { class: "error", id: "signin-error" }, message || "");
  const form = h("form", { class: "card", id: "signin-form" },
    h("img", { src: "/admin/static/logo.svg", width: 32, height: 32, alt: "" }),
    h("h1", {}, "Sign in to gptgate"),
    h("p", {}, "Use the admin password (gptgate serve prints a one-time one on a local start)."),
    error,
    h("div", { class: "field" }, password),
    h("button", { class: "btn btn-primary", type: "submit", id: "signin" }, "Sign in"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api("POST", "/login", { password: password.value });
      start();
    } catch (err) {
      error.textContent = err.message;
      password.select();
    }
  });
  replace(main, h("div", { class: "signin" }, form));
  main.classList.add("bare");
  password.focus();
}

whenSignedOut(() => { if (current) signIn("Your session ended: sign in again."); });

async function start() {
  const session = await api("GET", "/session");
  if (!session.signed_in) return signIn();
  document.getElementById("topbar").hidden = false;
  main.classList.remove("bare");
  route();
}

function route() {
  const name = (location.hash.replace(/^#\//, "") || "accounts").split("?")[0];
  const page = PAGES[name] ? name : "accounts";
  for (const a of document.querySelectorAll("#tabs a")) a.classList.toggle("active", a.dataset.page === page);
  document.title = `${page[0].toUpperCase()}${page.slice(1)} · gptgate`;
  replace(main);
  current = { name: page, refresh: PAGES[page](main) };
  clearInterval(timer);
  tick();
  timer = setInterval(tick, POLL_MS);
}

async function tick() {
  if (!current || dialogOpen() || document.hidden) return;
  const live = document.getElementById("live");
  try {
    await current.refresh();
    live.classList.remove("stale");
  } catch (err) {
    live.classList.add("stale");
    if (err.status !== 401) console.warn(err);
  }
}

window.addEventListener("hashchange", () => { if (current) route(); });
document.getElementById("signout").addEventListener("click", async () => {
  await api("POST", "/logout").catch(() => {});
  location.hash = "";
  signIn("Signed out.");
});

// -- settings (read-only, secrets masked by the server)
function settingsPage(root) {
  const body = h("tbody");
  replace(root,
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Settings"),
      h("div", { class: "sub" }, "Read-only. Set them with flags, GPTGATE_* variables or the config file, then restart. Secrets are never shown."))),
    h("div", { class: "panel scroll" }, h("table", { class: "table", id: "settings-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "Setting"), h("th", {}, "Value"), h("th", {}, "Environment"), h("th", {}, "Meaning"))), body)));
  let loaded = false;
  return async () => {
    if (loaded) return;  // settings change only on restart
    const data = await api("GET", "/settings");
    loaded = true;
    replace(body, data.settings.map((row) => h("tr", {},
      h("td", { class: "name mono" }, row.name),
      h("td", {}, row.secret ? badge(row.value, row.value === "not set" || row.value === "0 set" ? "" : "ok") : h("code", {}, show(row.value))),
      h("td", { class: "muted mono" }, row.env),
      h("td", { class: "muted" }, row.description))));
  };
}

function show(value) {
  if (value === null || value === undefined) return "—";
  if (Array.isArray(value)) return value.length ? value.join(", ") : "[]";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

start().catch((err) => toast(err.message, true));
