// The chat page: sign in with a client key, then conversations on the left, the chat on the
// right. Every model call goes through the gateway's own /v1 door with the holder's key.
import { ApiError, LocalChats, ServerChats, me, models, saveKey, savedKey, streamChat } from "./api.js";
import { h, icon } from "./markdown.js";
import { OTHER, chipOf, fillMessage, groupModels, messageView, modelOptions, partOf, textOf, when } from "./view.js";

const root = document.getElementById("app");
const MODEL_SLOT = "gptgate.chat.model";
const state = { key: "", who: null, chats: null, list: [], conv: null, pending: [], controller: null, model: "" };
const ui = {};

async function boot() {
  const key = savedKey();
  try {
    state.who = await me(key);
  } catch (err) {
    if (err.status === 401) return signIn(key ? err.message : "");
    return signIn(err.message);
  }
  state.key = key;
  start();
}

function signIn(message) {
  const input = h("input", { type: "password", id: "key", placeholder: "gg-… or your API key", autocomplete: "off", required: true });
  const error = h("div", { class: "error", id: "signin-error" }, message || "");
  const form = h("form", { class: "signin-card", id: "signin-form" },
    h("img", { src: "/chat/static/logo.svg", width: 32, height: 32, alt: "" }),
    h("h1", {}, "Chat with gptgate"),
    h("p", {}, "Sign in with the client key your gateway operator gave you. It stays in this tab only."),
    error, input,
    h("button", { class: "btn btn-primary", type: "submit", id: "signin" }, "Sign in"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const key = input.value.trim();
    try {
      state.who = await me(key);
    } catch (err) {
      error.textContent = err.message;
      input.select();
      return;
    }
    state.key = key;
    saveKey(key);
    start();
  });
  root.replaceChildren(h("div", { class: "signin" }, form));
  input.focus();
}

function start() {
  state.chats = state.who.store ? new ServerChats(state.key) : new LocalChats(state.who.owner);
  state.model = localStorage.getItem(MODEL_SLOT) || "";
  layout();
  loadModels();
  refreshList().then(() => {
    const id = location.hash.startsWith("#c/") ? decodeURIComponent(location.hash.slice(3)) : "";
    return id ? openConversation(id) : newChat();
  });
}

function layout() {
  ui.list = h("nav", { class: "conv-list", id: "conversations" });
  ui.messages = h("div", { class: "messages", id: "messages" });
  ui.title = h("h2", { class: "conv-title", id: "conv-title" }, "New chat");
  ui.model = h("select", { id: "model", "aria-label": "Model", onchange: onModel });
  ui.other = h("input", { type: "text", id: "model-other", placeholder: "model or gpt-4o-gizmo-g-…", hidden: true, onchange: () => setModel(ui.other.value.trim()) });
  ui.text = h("textarea", { id: "prompt", rows: 1, placeholder: "Message gptgate…", onkeydown: onKey, oninput: grow });
  ui.files = h("input", { type: "file", id: "files", multiple: true, hidden: true, onchange: onFiles });
  ui.chips = h("div", { class: "chips", id: "chips" });
  ui.send = h("button", { class: "btn btn-primary send", type: "submit", id: "send" }, "Send");
  ui.stop = h("button", { class: "btn stop", type: "button", id: "stop", hidden: true, onclick: stop }, "■ Stop");
  const who = state.who.name || (state.who.kind === "anonymous" ? "anonymous" : state.who.kind === "static" ? "API key" : state.who.owner);
  const sidebar = h("aside", { class: "sidebar", id: "sidebar" },
    h("div", { class: "brand" }, h("img", { src: "/chat/static/logo.svg", width: 22, height: 22, alt: "" }), "gptgate chat"),
    h("button", { class: "btn new", type: "button", id: "new-chat", onclick: () => { newChat(); toggleSidebar(false); } }, "+ New chat"),
    ui.list,
    h("div", { class: "who" }, h("span", { class: "muted", id: "who" }, "Signed in as ", h("b", {}, who)),
      h("button", { class: "btn btn-ghost btn-sm", type: "button", id: "signout", onclick: signOut }, "Sign out")));
  const notice = state.chats.local ? h("div", { class: "notice", id: "local-notice" }, "This gateway keeps no conversations (no account store): they stay in this browser.") : null;
  const composer = h("form", { class: "composer", id: "composer", onsubmit: (ev) => { ev.preventDefault(); send(); } },
    ui.chips,
    h("div", { class: "row" },
      h("button", { class: "btn attach", type: "button", id: "attach", title: "Attach files", onclick: () => ui.files.click() }, icon("clip")),
      ui.text, ui.send, ui.stop, ui.files));
  const head = h("header", { class: "chat-head" },
    h("button", { class: "btn btn-ghost menu", type: "button", "aria-label": "Conversations", onclick: () => toggleSidebar() }, "☰"),
    ui.title, h("div", { class: "picker" }, ui.model, ui.other));
  root.replaceChildren(h("div", { class: "app" }, sidebar, h("div", { class: "scrim", onclick: () => toggleSidebar(false) }),
    h("section", { class: "chat" }, head, notice, ui.messages, composer)));
}

function toggleSidebar(open) { document.body.classList.toggle("nav-open", open); }

async function loadModels() {
  try {
    const grouped = groupModels(await models(state.key, state.who.api_base));
    if (!state.model) state.model = grouped.length ? grouped[0][1][0] : "";
    modelOptions(ui.model, grouped, state.conv?.model || state.model);
    ui.modelsLoaded = grouped;
  } catch (err) {
    modelOptions(ui.model, [], state.model);
    showError("Could not list the models: " + err.message);
  }
}

function onModel() {
  if (ui.model.value === OTHER) { ui.other.hidden = false; ui.other.focus(); return; }
  ui.other.hidden = true;
  setModel(ui.model.value);
}

function setModel(model) {
  if (!model) return;
  state.model = model;
  localStorage.setItem(MODEL_SLOT, model);
  if (ui.modelsLoaded) modelOptions(ui.model, ui.modelsLoaded, model);
  if (state.conv && state.conv.id && state.conv.model !== model) {
    state.conv.model = model;
    state.chats.update(state.conv.id, { model }).catch((err) => showError(err.message));
  }
}

async function refreshList() {
  try { state.list = await state.chats.list(); } catch (err) { state.list = []; showError(err.message); }
  renderList();
}

function renderList() {
  const current = state.conv && state.conv.id;
  ui.list.replaceChildren(...(state.list.length ? state.list.map((c) => h("div", { class: "conv" + (c.id === current ? " active" : "") },
    h("a", { href: "#c/" + encodeURIComponent(c.id), class: "conv-link", title: c.title, onclick: (ev) => { ev.preventDefault(); openConversation(c.id); toggleSidebar(false); } },
      h("span", { class: "t" }, c.title), h("span", { class: "d" }, when(c.updated_at))),
    h("button", { class: "del", type: "button", title: "Delete", "aria-label": "Delete " + c.title, onclick: () => remove(c) }, icon("trash"))))
    : [h("div", { class: "muted empty-list" }, "No conversations yet.")]));
}

function newChat() {
  if (state.controller) stop();
  state.conv = { id: null, title: "New chat", model: state.model, messages: [] };
  history.replaceState(null, "", location.pathname);
  showConversation();
}

async function openConversation(id) {
  if (state.controller) stop();
  try {
    const conv = await state.chats.get(id);
    conv.messages = conv.messages.map((m) => ({ ...m, saved: true }));
    state.conv = conv;
    if (conv.model) { state.model = conv.model; if (ui.modelsLoaded) modelOptions(ui.model, ui.modelsLoaded, conv.model); }
    history.replaceState(null, "", "#c/" + encodeURIComponent(id));
  } catch (err) {
    if (err.status !== 404) showError(err.message);
    return newChat();
  }
  showConversation();
}

function showConversation() {
  ui.title.textContent = state.conv.title;
  renderList();
  const views = state.conv.messages.map((m) => (m.view = messageView(m)));
  ui.messages.replaceChildren(...(views.length ? views : [h("div", { class: "welcome" }, h("h3", {}, "How can I help?"), h("p", { class: "muted" }, "Pick a model above, type a message, attach images or files."))]));
  scroll(true);
  ui.text.focus();
}

async function remove(conv) {
  if (!confirm(`Delete “${conv.title}”?`)) return;
  try { await state.chats.remove(conv.id); } catch (err) { if (err.status !== 404) return showError(err.message); }
  if (state.conv && state.conv.id === conv.id) newChat();
  refreshList();
}

function addMessage(msg) {
  if (!state.conv.messages.length) ui.messages.replaceChildren();
  state.conv.messages.push(msg);
  msg.view = messageView(msg);
  ui.messages.append(msg.view);
  scroll(true);
  return msg;
}

function showError(text) {
  const el = h("div", { class: "msg system" }, h("div", { class: "body" }, h("div", { class: "error", role: "alert" }, text)));
  ui.messages.append(el);
  scroll(true);
}

function scroll(force) {
  const box = ui.messages;
  if (force || box.scrollHeight - box.scrollTop - box.clientHeight < 120) box.scrollTop = box.scrollHeight;
}

// -- composing and sending
function grow() { ui.text.style.height = "auto"; ui.text.style.height = Math.min(ui.text.scrollHeight, 220) + "px"; }
function onKey(ev) { if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); send(); } }

async function onFiles() {
  for (const file of ui.files.files) {
    try { state.pending.push(await partOf(file)); } catch (err) { showError(err.message); }
  }
  ui.files.value = "";
  renderChips();
}

function renderChips() {
  ui.chips.replaceChildren(...state.pending.map((part, i) => chipOf(part, () => { state.pending.splice(i, 1); renderChips(); })));
}

function busy(on) { ui.send.hidden = on; ui.stop.hidden = !on; }

function stop() { if (state.controller) state.controller.abort(); }

async function send() {
  const text = ui.text.value.trim();
  if ((!text && !state.pending.length) || state.controller) return;
  const model = state.model || ui.model.value;
  const content = state.pending.length ? [...(text ? [{ type: "text", text }] : []), ...state.pending] : text;
  ui.text.value = ""; state.pending = []; renderChips(); grow();
  addMessage({ role: "user", content, saved: false });
  const answer = addMessage({ role: "assistant", content: "", reasoning: "", streaming: true, thinking: true, saved: false });
  const wire = state.conv.messages.filter((m) => m !== answer && !m.failed).map((m) => ({ role: m.role, content: m.content }));
  const controller = state.controller = new AbortController();
  busy(true);
  let frame = 0;
  const paint = () => { frame = 0; fillMessage(answer.view, answer); scroll(false); };
  try {
    await streamChat(state.key, state.who.api_base, { model, messages: wire }, (d) => {
      answer.reasoning += d.reasoning;
      answer.content += d.content;
      if (d.content) answer.thinking = false;
      if (!frame) frame = requestAnimationFrame(paint);
    }, controller.signal);
  } catch (err) {
    if (err.name === "AbortError") answer.stopped = true;
    else answer.error = err.message;
  } finally {
    cancelAnimationFrame(frame);
    state.controller = null;
    answer.streaming = false; answer.thinking = false;
    busy(false);
    fillMessage(answer.view, answer);
    scroll(false);
  }
  if (!answer.content && !answer.reasoning) answer.failed = true;  // nothing to keep or resend
  await save(model);
}

// The turn just streamed goes to the store: the user's message(s) and the answer, if any.
async function save(model) {
  const conv = state.conv;
  const unsaved = conv.messages.filter((m) => !m.saved && !m.failed);
  if (!unsaved.length) return;
  const wire = unsaved.map((m) => ({ role: m.role, content: m.content, reasoning: m.reasoning || null }));
  try {
    if (!conv.id) {
      const title = (textOf(unsaved[0].content) || "Attachment").replace(/\s+/g, " ").slice(0, 60);
      const made = await state.chats.create(title, model, wire);
      Object.assign(conv, { id: made.id, title: made.title, model: made.model });
      ui.title.textContent = made.title;
      history.replaceState(null, "", "#c/" + encodeURIComponent(made.id));
    } else {
      await state.chats.append(conv.id, wire);
    }
    unsaved.forEach((m) => { m.saved = true; });
  } catch (err) {
    showError("This turn was not saved: " + err.message);
    if (err instanceof ApiError && err.status === 409 && !state.chats.local) state.chats = new LocalChats(state.who.owner);
  }
  refreshList();
}

function signOut() {
  stop();
  saveKey("");
  history.replaceState(null, "", location.pathname);
  state.who = null; state.conv = null;
  signIn("Signed out.");
}

boot();
