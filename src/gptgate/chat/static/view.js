// How messages, the model picker and attachments look; no state lives here.
import { h, icon, render } from "./markdown.js";

export const MAX_FILE_BYTES = 20 * 1024 * 1024;
const EFFORT = /-(none|minimal|low|medium|high|xhigh)$/;

// Parts of a Chat Completions content value: [{type: "text"|"image_url"|"file", ...}].
export function parts(content) {
  return typeof content === "string" ? [{ type: "text", text: content }] : content || [];
}

export function textOf(content) {
  return parts(content).filter((p) => p.type === "text").map((p) => p.text).join("\n");
}

function attachment(part) {
  if (part.type === "image_url") {
    const url = part.image_url && part.image_url.url;
    return /^data:image\//.test(url || "") ? h("img", { class: "thumb", src: url, alt: "attached image" }) : h("span", { class: "chip" }, icon("image"), "image");
  }
  if (part.type === "file") return h("span", { class: "chip" }, icon("file"), (part.file && part.file.filename) || "file");
  return null;
}

// One message bubble; an assistant's `reasoning` is a collapsible block above its answer.
export function messageView(msg) {
  const body = h("div", { class: "body" });
  const el = h("div", { class: "msg " + msg.role }, h("div", { class: "role" }, msg.role === "user" ? "You" : "Assistant"), body);
  fillMessage(el, msg);
  return el;
}

export function fillMessage(el, msg) {
  const body = el.querySelector(".body");
  const nodes = [];
  if (msg.reasoning) {
    const open = el.querySelector("details.reasoning")?.open ?? msg.thinking ?? false;
    nodes.push(h("details", { class: "reasoning", open }, h("summary", {}, msg.thinking ? "Thinking…" : "Reasoning"), h("div", { class: "reasoning-text md" }, render(msg.reasoning))));
  }
  if (msg.role === "user") {
    const files = parts(msg.content).map(attachment).filter(Boolean);
    if (files.length) nodes.push(h("div", { class: "attachments" }, files));
    const text = textOf(msg.content);
    if (text) nodes.push(h("div", { class: "text plain" }, text));
  } else {
    nodes.push(h("div", { class: "text md" }, render(textOf(msg.content))));
    if (msg.streaming && !textOf(msg.content) && !msg.reasoning) nodes.push(h("span", { class: "dots" }, h("i"), h("i"), h("i")));
    if (msg.stopped) nodes.push(h("div", { class: "note" }, "Stopped."));
  }
  if (msg.error) nodes.push(h("div", { class: "error", role: "alert" }, msg.error));
  body.replaceChildren(...nodes);
}

// /v1/models grouped: Codex models (and their effort-suffixed names), web models (each model
// says where it is served from: "upstream": "chatgpt_web"), GPTs (gizmo ids), and the aliases.
export function groupModels(list) {
  const groups = { codex: [], effort: [], web: [], gpts: [], aliases: [] };
  for (const m of list) {
    const id = m.id;
    if (/-gizmo-|^g-[A-Za-z0-9]/.test(id)) groups.gpts.push(id);
    else if (m.upstream === "chatgpt_web") groups.web.push(id);
    else if (EFFORT.test(id)) groups.effort.push(id);
    else if (/^gpt-5|codex/.test(id)) groups.codex.push(id);
    else groups.aliases.push(id);
  }
  return [
    ["Codex models", groups.codex], ["Web models", groups.web], ["GPTs", groups.gpts],
    ["Codex models · reasoning effort", groups.effort], ["Aliases", groups.aliases],
  ].filter(([, ids]) => ids.length);
}

export const OTHER = "__other__";

export function modelOptions(select, grouped, chosen) {
  const known = new Set(grouped.flatMap(([, ids]) => ids));
  const nodes = grouped.map(([label, ids]) => h("optgroup", { label }, ids.map((id) => h("option", { value: id }, id))));
  if (chosen && !known.has(chosen)) nodes.unshift(h("option", { value: chosen }, chosen));
  nodes.push(h("option", { value: OTHER }, "Other model or GPT id…"));
  select.replaceChildren(...nodes);
  if (chosen) select.value = chosen;
}

export function readFile(file) {
  return new Promise((resolve, reject) => {
    if (file.size > MAX_FILE_BYTES) { reject(new Error(`${file.name} is larger than 20 MB.`)); return; }
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(new Error(`Could not read ${file.name}.`));
    reader.readAsDataURL(file);
  });
}

// A picked file as a content part: images as image_url, anything else as an inline file.
export async function partOf(file) {
  const url = await readFile(file);
  if (/^image\/(png|jpe?g|gif|webp)$/.test(file.type)) return { type: "image_url", image_url: { url } };
  return { type: "file", file: { filename: file.name, file_data: url } };
}

export function chipOf(part, onRemove) {
  const remove = h("button", { type: "button", class: "x", title: "Remove", "aria-label": "Remove attachment", onclick: onRemove }, "×");
  if (part.type === "image_url") return h("span", { class: "pending image" }, h("img", { src: part.image_url.url, alt: "attachment preview" }), remove);
  return h("span", { class: "pending" }, icon("file"), part.file.filename, remove);
}

export function when(epoch) {
  const d = new Date(epoch * 1000);
  const today = new Date();
  return d.toDateString() === today.toDateString()
    ? d.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" })
    : d.toLocaleDateString("en-GB", { day: "numeric", month: "short" });
}
