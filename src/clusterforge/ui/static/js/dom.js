// DOM helpers. Every piece of data reaches the page as a text node or an
// attribute value set through the DOM, never as markup: hostile names, params
// and log lines stay inert text.

/** An element: h('a', {href: '#/x', class: 'c', onclick: f}, 'text', child). */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'href') el.setAttribute('href', safeHref(value));
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/** Append children (nodes, strings, numbers, arrays); strings become text nodes. */
export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Only links inside this app or its API: a `javascript:` URL from data can never become one. */
export function safeHref(value) {
  const text = String(value);
  return text.startsWith('#/') || text.startsWith('/api/v1/') ? text : '#/';
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** The path of an in-app link to a build. */
export function buildHref(id) {
  return `#/builds/${encodeURIComponent(id)}`;
}

const PHASES = {
  Pending: ['◷', 'pending'], Running: ['▶', 'running'], Succeeded: ['✔', 'ok'],
  Failed: ['✖', 'failed'], Error: ['⚠', 'error'], Skipped: ['⤼', 'skipped'],
  Omitted: ['∅', 'skipped'],
};

/** Icon + class of a phase: never colour alone. */
export function phaseOf(phase) {
  return PHASES[phase] || ['?', 'pending'];
}

/** A phase badge: icon and the phase's name, coloured. */
export function phaseBadge(phase, label = phase) {
  const [icon, cls] = phaseOf(phase);
  return h('span', {class: `phase ${cls}`}, h('span', {'aria-hidden': 'true'}, icon), ' ', label || '—');
}

export function duration(startIso, endIso) {
  if (!startIso) return '';
  const end = endIso ? Date.parse(endIso) : Date.now();
  let s = Math.max(0, Math.round((end - Date.parse(startIso)) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60); s %= 60;
  if (m < 60) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function ago(iso) {
  if (!iso) return '';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return new Date(iso).toISOString().slice(0, 16).replace('T', ' ');
}

export function isoOfEpoch(seconds) {
  return seconds ? new Date(seconds * 1000).toISOString() : null;
}

let toastTimer = 0;
/** A short message for everyone, screen readers included. */
export function toast(text, kind = 'info') {
  const el = document.getElementById('toast');
  el.textContent = text;
  el.className = `toast show ${kind}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.className = 'toast'; }, 6000);
}
