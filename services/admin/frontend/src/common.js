// What the editor's pages share: messages in the page's language, calls to the admin API
// with the session's anti-forgery token, and a BPMN diagram laid out when it has none.
import { layoutProcess } from 'bpmn-auto-layout';

export const messages = JSON.parse(document.getElementById('messages')?.textContent || '{}');
export const t = (key) => messages[key] || key;
// A service's problem in the page's language: its code's text with the parameters put
// in; the service's own (English) reason where the code has no text here.
export function problemText(problem) {
  const template = problem.code && messages[`problem.${problem.code}`];
  if (!template) return problem.reason;
  return template.replace(/\{(\w+)\}/g, (whole, name) => problem.params?.[name] ?? whole);
}

const csrf = document.querySelector('meta[name="csrf-token"]')?.content || '';

export async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: {
      Accept: 'application/json',
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...(method === 'GET' ? {} : { 'X-CSRF-Token': csrf }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const payload = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(payload.detail || payload.title || `HTTP ${response.status}`);
    error.status = response.status;
    error.problem = payload;
    throw error;
  }
  return payload;
}

// Our workflows are written by hand without diagram interchange (BPMNDI): bpmn-js can only
// show a diagram, so one is laid out automatically; the semantic model is left untouched.
export async function withDiagram(xml) {
  if (/BPMNDiagram/.test(xml)) return xml;
  return layoutProcess(xml);
}

export function setStatus(text, kind = '') {
  const node = document.getElementById('status');
  node.textContent = text;
  node.className = kind;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'class') node.className = value;
    else if (key.startsWith('data-')) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) node.append(child);
  return node;
}

// Fit the diagram once the page has laid the canvas out (its size is known only then).
export function fit(diagram) {
  const canvas = diagram.get('canvas');
  requestAnimationFrame(() => {
    canvas.resized();
    canvas.zoom('fit-viewport', 'auto');
    // A margin around the diagram, so that the palette on the left covers none of it.
    const box = canvas.viewbox();
    const margin = Math.max(box.width * 0.12, 80 / box.scale);
    canvas.viewbox({
      x: box.x - margin,
      y: box.y - margin / 2,
      width: box.width + 2 * margin,
      height: box.height + margin,
    });
  });
}
