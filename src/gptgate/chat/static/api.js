// The page's clients: the gateway's own OpenAI door (models, streamed chat) and the
// conversation store, either the server's (/chat/api, per key) or this browser's (when the
// gateway keeps no conversations: it has no account store).

// The key lives in sessionStorage: it is what authenticates every API call anyway (there is
// no session cookie to steal instead), and sessionStorage ends with the tab, unlike localStorage.
const KEY_SLOT = "gptgate.chat.key";
export const savedKey = () => sessionStorage.getItem(KEY_SLOT) || "";
export const saveKey = (key) => (key ? sessionStorage.setItem(KEY_SLOT, key) : sessionStorage.removeItem(KEY_SLOT));

export class ApiError extends Error {
  constructor(status, body, fallback) {
    super((body && body.error && body.error.message) || fallback || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.error && body.error.code;
  }
}

function headers(key, json) {
  const out = {};
  if (key) out.Authorization = "Bearer " + key;
  if (json) out["Content-Type"] = "application/json";
  return out;
}

export async function call(key, method, path, body, signal) {
  let resp;
  try {
    resp = await fetch(path, { method, headers: headers(key, body !== undefined), body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, null, "The gateway could not be reached: " + err.message);
  }
  const text = await resp.text();
  let data = null;
  if (text) { try { data = JSON.parse(text); } catch { data = null; } }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

export const me = (key) => call(key, "GET", "/chat/api/me");
export const models = (key, base) => call(key, "GET", base + "/models").then((d) => d.data || []);

// POST /v1/chat/completions with stream: true; calls onDelta({content, reasoning}) per chunk.
// An error before the stream is the gateway's envelope; one inside it arrives as a chunk.
export async function streamChat(key, base, body, onDelta, signal) {
  let resp;
  try {
    resp = await fetch(base + "/chat/completions", {
      method: "POST", headers: headers(key, true), body: JSON.stringify({ ...body, stream: true }), signal,
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, null, "The gateway could not be reached: " + err.message);
  }
  if (!resp.ok) {
    let data = null;
    try { data = await resp.json(); } catch { data = null; }
    throw new ApiError(resp.status, data);
  }
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      for (const line of event.split("\n")) {
        if (!line.startsWith("data:")) continue;
        const payload = line.slice(5).trim();
        if (payload === "[DONE]") return;
        let chunk;
        try { chunk = JSON.parse(payload); } catch { continue; }
        if (chunk.error) throw new ApiError(500, chunk);
        const delta = (chunk.choices && chunk.choices[0] && chunk.choices[0].delta) || {};
        const reasoning = delta.reasoning_content ?? delta.reasoning;
        if (delta.content || reasoning) onDelta({ content: delta.content || "", reasoning: reasoning || "" });
      }
    }
  }
}

// Conversations kept by the gateway, visible to this key only.
export class ServerChats {
  constructor(key) { this.key = key; this.local = false; }
  list() { return call(this.key, "GET", "/chat/api/conversations").then((d) => d.conversations); }
  get(id) { return call(this.key, "GET", `/chat/api/conversations/${encodeURIComponent(id)}`).then((d) => d.conversation); }
  create(title, model, messages) { return call(this.key, "POST", "/chat/api/conversations", { title, model, messages }).then((d) => d.conversation); }
  update(id, values) { return call(this.key, "PATCH", `/chat/api/conversations/${encodeURIComponent(id)}`, values).then((d) => d.conversation); }
  remove(id) { return call(this.key, "DELETE", `/chat/api/conversations/${encodeURIComponent(id)}`); }
  append(id, messages) { return call(this.key, "POST", `/chat/api/conversations/${encodeURIComponent(id)}/messages`, { messages }).then((d) => d.messages); }
}

// Conversations in this browser's localStorage, one slot per owner (no account store).
export class LocalChats {
  constructor(owner) { this.slot = "gptgate.chat.local." + owner; this.local = true; }
  _all() { try { return JSON.parse(localStorage.getItem(this.slot) || "[]"); } catch { return []; } }
  _save(all) {
    try { localStorage.setItem(this.slot, JSON.stringify(all)); } catch {
      throw new ApiError(507, null, "This browser has no room left for the conversation (attachments are large); delete some chats.");
    }
  }
  _find(all, id) {
    const found = all.find((c) => c.id === id);
    if (!found) throw new ApiError(404, null, `No conversation '${id}'.`);
    return found;
  }
  async list() { return this._all().map(({ messages, ...rest }) => rest).sort((a, b) => b.updated_at - a.updated_at); }
  async get(id) { return structuredClone(this._find(this._all(), id)); }
  async create(title, model, messages) {
    const now = Date.now() / 1000;
    const conv = { id: "local_" + Math.random().toString(16).slice(2, 14), title, model, created_at: now, updated_at: now, messages: messages || [] };
    this._save([conv, ...this._all()]);
    return structuredClone(conv);
  }
  async update(id, values) {
    const all = this._all();
    Object.assign(this._find(all, id), values, { updated_at: Date.now() / 1000 });
    this._save(all);
    return this._find(all, id);
  }
  async remove(id) { this._save(this._all().filter((c) => c.id !== id)); }
  async append(id, messages) {
    const all = this._all();
    const conv = this._find(all, id);
    conv.messages.push(...messages);
    conv.updated_at = Date.now() / 1000;
    this._save(all);
    return messages;
  }
}
