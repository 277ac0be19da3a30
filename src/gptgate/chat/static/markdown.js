// A small, safe markdown renderer for model answers: every node is built with the DOM API and
// every piece of model text lands in a text node, so nothing the model writes is ever parsed
// as HTML. Supported: paragraphs, headings, lists, quotes, fenced code, inline code,
// bold/italic, links and images. Links go to http(s) or this gateway only; images show inline
// only from this gateway or as data: URLs (the page's CSP says the same), else as a link.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// Line icons as inline SVG (emoji need fonts a server may lack). Each is a list of path data.
const ICONS = {
  clip: ["M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l8.6-8.6a3.7 3.7 0 0 1 5.2 5.2l-8.6 8.6a1.8 1.8 0 0 1-2.6-2.6l8-8"],
  trash: ["M4 7h16", "M9 7V4h6v3", "M6 7l1 13h10l1-13", "M10 11v6", "M14 11v6"],
  file: ["M14 3H6v18h12V7z", "M14 3v4h4", "M9 13h6", "M9 17h6"],
  image: ["M4 5h16v14H4z", "M4 16l5-5 4 4 3-3 4 4", "M15.5 9.5h.01"],
};

export function icon(name) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  for (const [k, v] of Object.entries({ viewBox: "0 0 24 24", width: 16, height: 16, fill: "none", stroke: "currentColor",
    "stroke-width": 2, "stroke-linecap": "round", "stroke-linejoin": "round", "aria-hidden": "true", class: "icon" })) svg.setAttribute(k, v);
  for (const d of ICONS[name]) { const path = document.createElementNS(ns, "path"); path.setAttribute("d", d); svg.append(path); }
  return svg;
}

export function safeUrl(raw, image = false) {
  let url;
  try { url = new URL(raw, location.href); } catch { return null; }
  if (image && url.protocol === "data:") return /^data:image\/(png|jpe?g|gif|webp);/i.test(raw) ? raw : null;
  if (image) return url.origin === location.origin ? url.href : null;
  return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
}

function link(href, children) {
  return h("a", { href, target: "_blank", rel: "noopener noreferrer" }, children);
}

function image(alt, raw) {
  const inline = safeUrl(raw, true);
  if (inline) return link(inline, h("img", { src: inline, alt, loading: "lazy", class: "md-img" }));
  const href = safeUrl(raw);
  return href ? link(href, [icon("image"), " " + (alt || "image")]) : document.createTextNode(`![${alt}](${raw})`);
}

// Inline: `code`, ![alt](url), [text](url), **bold**, *italic* / _italic_, bare http(s) links.
const INLINE = /(`+)([\s\S]*?[^`])\1(?!`)|!\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)|\[([^\]]+)\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)|\*\*([\s\S]+?)\*\*|__([\s\S]+?)__|\*([^\s*](?:[\s\S]*?[^\s*])?)\*|\b_([^\s_](?:[\s\S]*?[^\s_])?)_\b|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"])/g;

export function inline(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > last) out.push(document.createTextNode(text.slice(last, m.index)));
    last = m.index + m[0].length;
    if (m[1]) out.push(h("code", {}, m[2].trim() || m[2]));
    else if (m[4] !== undefined) out.push(image(m[3], m[4]));
    else if (m[6] !== undefined) {
      const href = safeUrl(m[6]);
      out.push(href ? link(href, inline(m[5])) : document.createTextNode(m[0]));
    } else if (m[7] !== undefined || m[8] !== undefined) out.push(h("strong", {}, inline(m[7] ?? m[8])));
    else if (m[9] !== undefined || m[10] !== undefined) out.push(h("em", {}, inline(m[9] ?? m[10])));
    else if (m[11]) out.push(link(safeUrl(m[11]) || "#", m[11]));
  }
  if (last < text.length) out.push(document.createTextNode(text.slice(last)));
  return out;
}

function withBreaks(lines) {
  const out = [];
  lines.forEach((line, i) => { if (i) out.push(h("br")); out.push(...inline(line)); });
  return out;
}

const FENCE = /^\s*(```+|~~~+)\s*([\w+#.-]*)\s*$/;
const HEADING = /^(#{1,6})\s+(.*)$/;
const ITEM = /^\s*([-*+]|\d{1,3}[.)])\s+(.*)$/;
const QUOTE = /^\s*>\s?(.*)$/;

function codeBlock(lang, lines) {
  const code = h("code", { class: lang ? "lang-" + lang : null }, lines.join("\n"));
  const copy = h("button", { class: "copy", type: "button", title: "Copy" }, "Copy");
  copy.addEventListener("click", () => navigator.clipboard?.writeText(lines.join("\n")).then(() => { copy.textContent = "Copied"; }, () => {}));
  return h("div", { class: "md-code" }, h("div", { class: "md-code-head" }, h("span", {}, lang || "code"), copy), h("pre", {}, code));
}

// Block structure, line by line; an unclosed fence (still streaming) runs to the end.
export function render(text) {
  const lines = String(text || "").replace(/\r\n?/g, "\n").split("\n");
  const blocks = [];
  let para = [];
  const flush = () => { if (para.length) blocks.push(h("p", {}, withBreaks(para))); para = []; };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = line.match(FENCE);
    if (fence) {
      flush();
      const body = [];
      for (i++; i < lines.length && !lines[i].trim().startsWith(fence[1]); i++) body.push(lines[i]);
      blocks.push(codeBlock(fence[2], body));
      continue;
    }
    if (!line.trim()) { flush(); continue; }
    const heading = line.match(HEADING);
    if (heading) { flush(); blocks.push(h("h" + Math.min(6, heading[1].length + 2), {}, inline(heading[2]))); continue; }
    if (ITEM.test(line)) {
      flush();
      const ordered = /^\s*\d/.test(line);
      const list = h(ordered ? "ol" : "ul");
      for (; i < lines.length && ITEM.test(lines[i]); i++) list.append(h("li", {}, inline(lines[i].match(ITEM)[2])));
      i--;
      blocks.push(list);
      continue;
    }
    if (QUOTE.test(line)) {
      flush();
      const quoted = [];
      for (; i < lines.length && QUOTE.test(lines[i]); i++) quoted.push(lines[i].match(QUOTE)[1]);
      i--;
      blocks.push(h("blockquote", {}, withBreaks(quoted)));
      continue;
    }
    para.push(line);
  }
  flush();
  return blocks;
}
