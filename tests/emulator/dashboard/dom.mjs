// SPDX-License-Identifier: MIT
// Small DOM helpers: elements from data, never from HTML strings (device data is untrusted text).

/** h('tag', {attr: value, onclick: fn}, ...children): an element; value and checked are set as properties. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' || k === 'checked') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function time(iso) {
  return iso ? new Date(iso).toLocaleTimeString() : '—';
}

export function dateTime(iso) {
  return iso ? new Date(iso).toLocaleString() : '—';
}

/** A value as compact JSON text (strings as they are). */
export function text(v) {
  if (v === undefined) return '—';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** A labelled section with a heading; returns [section, body]. */
export function section(title, id, ...extra) {
  const body = h('div', { class: 'body' });
  const el = h('section', { class: 'card', id, 'aria-labelledby': `${id}-title` }, h('h2', { id: `${id}-title` }, title), ...extra, body);
  return [el, body];
}
