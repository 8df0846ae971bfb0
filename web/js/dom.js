// Building the page without innerHTML: every text is a text node, so nothing the server or a
// user typed can become markup (no XSS through names, reasons or descriptions).

/**
 * Creates an element. `attrs` keys: `class`, `text`, `on<Event>` (a listener), `dataset`
 * (an object), boolean attributes as `true`/`false`, anything else as an attribute.
 * Children may be nodes, strings, numbers, arrays, or null/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') element.className = value;
    else if (key === 'text') element.textContent = value;
    else if (key === 'dataset') Object.assign(element.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') element.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'value') element.value = value;
    else if (value === true) element.setAttribute(key, '');
    else element.setAttribute(key, String(value));
  }
  append(element, children);
  return element;
}

/** Appends children (nodes, strings, nested arrays; null and false are skipped). */
export function append(parent, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replaces all children of `parent`. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

let fieldCounter = 0;

/**
 * A labelled form field: `field(label, inputAttrs)` → `<div class="field"><label>…<input>`.
 * `inputAttrs.tag` may be 'select' or 'textarea'; `inputAttrs.options` lists `[value, label]`
 * for a select; `inputAttrs.hint` adds a described-by hint.
 */
export function field(label, { tag = 'input', options = [], hint, ...attrs } = {}) {
  const id = attrs.id || `field-${++fieldCounter}`;
  const hintId = hint ? `${id}-hint` : null;
  const control = h(tag, { ...attrs, id, 'aria-describedby': hintId });
  if (tag === 'select') {
    for (const [value, text] of options) {
      control.append(h('option', { value, selected: String(value) === String(attrs.value ?? '') }, text));
    }
  }
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    control,
    hint ? h('small', { id: hintId, class: 'hint' }, hint) : null);
}

/** The form's named values as an object (checkboxes as booleans, empty strings kept). */
export function formValues(form) {
  const values = {};
  for (const element of form.elements) {
    if (!element.name) continue;
    values[element.name] = element.type === 'checkbox' ? element.checked : element.value;
  }
  return values;
}

/**
 * A message shown inside a page (`kind`: 'error' | 'success' | 'info'); errors are announced
 * to screen readers. Marked `data-test="flash"`.
 */
export function flash(kind, message) {
  return h('div', { class: `flash flash-${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-test': 'flash' }, message);
}

/** A short-lived message in the corner (also announced). */
export function toast(message, kind = 'info') {
  const region = document.getElementById('toasts');
  if (!region) return;
  const item = h('div', { class: `toast toast-${kind}`, 'data-test': 'toast' }, message);
  region.append(item);
  setTimeout(() => item.remove(), 6000);
}

/** A button that runs `action` (async), disabled while it runs, with errors shown as a toast. */
export function button(label, action, attrs = {}) {
  const element = h('button', { type: 'button', class: 'btn', ...attrs }, label);
  element.addEventListener('click', async (event) => {
    event.preventDefault();
    element.disabled = true;
    try {
      await action(event);
    } catch (error) {
      toast(error.message || String(error), 'error');
    } finally {
      element.disabled = false;
    }
  });
  return element;
}

/** A simple table: `columns` are `[header, row => cell]`; `rowAttrs(row)` adds attributes. */
export function table(columns, rows, { caption, rowAttrs, empty } = {}) {
  if (!rows.length && empty) return h('p', { class: 'empty' }, empty);
  return h('div', { class: 'table-wrap' },
    h('table', {},
      caption ? h('caption', {}, caption) : null,
      h('thead', {}, h('tr', {}, columns.map(([header]) => h('th', { scope: 'col' }, header)))),
      h('tbody', {}, rows.map((row) => h('tr', rowAttrs ? rowAttrs(row) : {},
        columns.map(([, cell]) => h('td', {}, cell(row))))))));
}
