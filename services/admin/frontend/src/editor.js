// The modeler page: open one version of a BPMN or DMN file, lint as you edit (bpmnlint,
// recommended rules), validate on the server with markers on the offending elements,
// deploy a new version.
import BpmnModeler from 'bpmn-js/lib/Modeler';
import DmnModeler from 'dmn-js/lib/Modeler';
import lintModule from 'bpmn-js-bpmnlint';
import lintRules from './generated/lint-rules.js';
import { api, el, fit, problemText, setStatus, t, withDiagram } from './common.js';
import { keepLoopVariables, loopVariables } from './loop_variables.js';
import { propertiesPanel } from './properties.js';

const root = document.getElementById('editor-app');
const service = root.dataset.service;
const fileName = root.dataset.file;
const isDmn = fileName.toLowerCase().endsWith('.dmn');
const canvas = document.getElementById('canvas');
const problemList = document.getElementById('problems');

const modeler = isDmn
  ? new DmnModeler({ container: canvas })
  : new BpmnModeler({
      container: canvas,
      additionalModules: [lintModule],
      linting: { bpmnlint: lintRules, active: true },
    });

let markers = [];

if (!isDmn) propertiesPanel(modeler, document.getElementById('properties'));

function bpmnServices() {
  return isDmn ? null : {
    canvas: modeler.get('canvas'),
    overlays: modeler.get('overlays'),
    registry: modeler.get('elementRegistry'),
  };
}

async function importXML(xml) {
  if (isDmn) {
    await modeler.importXML(xml);
    const table = modeler.getViews().find((view) => view.type === 'decisionTable');
    if (table) await modeler.open(table);
    return [];
  }
  const loops = loopVariables(xml);
  const { warnings } = await modeler.importXML(await withDiagram(xml));
  keepLoopVariables(modeler, loops);
  fit(modeler);
  return warnings;
}

async function exportXML() {
  const { xml } = await modeler.saveXML({ format: true });
  return xml;
}

function clearProblems() {
  const bpmn = bpmnServices();
  if (bpmn) {
    for (const id of markers) bpmn.canvas.removeMarker(id, 'cf-error');
    bpmn.overlays.remove({ type: 'cf-error' });
  }
  markers = [];
  problemList.replaceChildren();
}

function showProblems(problems) {
  clearProblems();
  const bpmn = bpmnServices();
  for (const problem of problems) {
    const where = problem.element_id || t('editor.document');
    const text = problemText(problem);
    problemList.append(
      el('li', { 'data-element-id': problem.element_id || '', title: problem.reason }, el('code', {}, where), ' ', text),
    );
    const element = bpmn && problem.element_id && bpmn.registry.get(problem.element_id);
    if (!element) continue;
    bpmn.canvas.addMarker(element, 'cf-error');
    markers.push(element.id);
    bpmn.overlays.add(element, 'cf-error', {
      position: { bottom: -6, left: 0 },
      html: el('div', { class: 'cf-error-note', title: text }, `${t('editor.error')}: ${text}`),
    });
  }
  // The first offending element in view, clear of the palette.
  if (markers.length) bpmn.canvas.scrollToElement(markers[0], { top: 120, left: 160, right: 120, bottom: 120 });
}

async function validate() {
  setStatus('…');
  const result = await api('POST', `/api/services/${service}/validate`, {
    file_name: fileName,
    content: await exportXML(),
  });
  showProblems(result.problems);
  setStatus(result.valid ? t('editor.valid') : t('editor.invalid'), result.valid ? 'good' : 'bad');
  return result;
}

async function deploy() {
  const comment = document.getElementById('comment').value;
  setStatus('…');
  try {
    const version = await api('POST', `/api/services/${service}/deploy`, {
      file_name: fileName,
      content: await exportXML(),
      comment,
    });
    clearProblems();
    setStatus(
      version.unchanged ? `${t('editor.unchanged')} (v${version.sequence})` : `${t('editor.deployed')} ${version.sequence}`,
      'good',
    );
    const url = new URL(window.location.href);
    url.searchParams.set('version', version.id);
    window.history.replaceState(null, '', url);
    return version;
  } catch (error) {
    const problems = error.problem?.problems || [];
    showProblems(problems);
    setStatus(problems.length ? t('editor.refused') : `${t('editor.error')}: ${error.message}`, 'bad');
    return null;
  }
}

function guard(action) {
  return () => action().catch((error) => setStatus(`${t('editor.error')}: ${error.message}`, 'bad'));
}

document.getElementById('validate').addEventListener('click', guard(validate));
document.getElementById('deploy')?.addEventListener('click', guard(deploy));

// What the browser tests drive (MIWG round trip) besides the page itself.
window.contractflowEditor = { modeler, importXML, exportXML, validate, deploy, ready: null };

window.contractflowEditor.ready = (async () => {
  if (!root.dataset.version) {
    setStatus('');
    return;
  }
  try {
    const version = await api('GET', `/api/services/${service}/versions/${root.dataset.version}`);
    await importXML(version.content);
    setStatus(`v${version.sequence} · ${version.deployed_by} · ${version.deployed_at.slice(0, 19).replace('T', ' ')} UTC`);
    root.dataset.loaded = 'true';
  } catch (error) {
    setStatus(`${t('editor.error')}: ${error.message}`, 'bad');
  }
})();
