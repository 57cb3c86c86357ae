// The instance view: one version's diagram with the number of instances waiting at each
// element and its open incidents; one instance's path (done, active, incident), its
// variables and history; retrying an incident.
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import { api, el, fit, setStatus, t, withDiagram } from './common.js';

const root = document.getElementById('instances-app');
const service = root.dataset.service;
const versionId = root.dataset.version;
const canRetry = root.dataset.canRetry === 'true';
const viewer = new NavigatedViewer({ container: document.getElementById('canvas') });
const PATH_MARKERS = ['cf-done', 'cf-active', 'cf-incident'];
let data = null;

function registry() { return viewer.get('elementRegistry'); }

function showCounts(elements) {
  const overlays = viewer.get('overlays');
  for (const [elementId, counts] of Object.entries(elements)) {
    if (!registry().get(elementId)) continue;
    if (counts.waiting) {
      overlays.add(elementId, 'cf-count', {
        position: { top: -10, right: 10 },
        html: el('span', { class: 'cf-count', 'data-element-id': elementId, title: t('instances.waiting') }, String(counts.waiting)),
      });
    }
    if (counts.incidents) {
      viewer.get('canvas').addMarker(elementId, 'cf-incident');
      overlays.add(elementId, 'cf-count', {
        position: { top: -10, left: -10 },
        html: el('span', { class: 'cf-incident-count', 'data-element-id': elementId, title: t('instances.incidents') }, `⚠ ${counts.incidents}`),
      });
    }
  }
}

async function showInstance(instanceId) {
  const detail = await api('GET', `/api/services/${service}/instances/${instanceId}`);
  const canvas = viewer.get('canvas');
  registry().forEach((element) => PATH_MARKERS.forEach((m) => canvas.removeMarker(element, m)));
  const mark = (id, marker) => registry().get(id) && canvas.addMarker(id, marker);
  for (const entry of detail.history) if (entry.element_id && /completed/.test(entry.kind)) mark(entry.element_id, 'cf-done');
  for (const task of detail.open_tasks) mark(task.element_id, 'cf-active');
  for (const incident of data.incidents.filter((i) => i.instance_id === instanceId)) mark(incident.element_id, 'cf-incident');
  const box = document.getElementById('instance-detail');
  box.replaceChildren(
    el('h3', {}, `${detail.id.slice(0, 8)} · ${detail.status}`),
    el('h3', {}, t('instances.variables')),
    el('pre', {}, JSON.stringify(detail.variables, null, 2)),
    el('h3', {}, t('instances.history')),
    el('ol', {}, ...detail.history.map((h) => el('li', {}, `${h.at.slice(0, 19).replace('T', ' ')} ${h.kind} ${h.element_id || ''} ${h.actor || ''}`))),
  );
}

function showLists() {
  const incidents = document.getElementById('incidents');
  incidents.replaceChildren(...data.incidents.map((incident) => {
    const item = el('li', { 'data-incident-id': String(incident.id) }, el('code', {}, incident.element_id), ` ${incident.error.slice(0, 160)} `);
    if (canRetry) {
      const button = el('button', { type: 'button' }, t('instances.retry'));
      button.addEventListener('click', async () => {
        try {
          await api('POST', `/api/services/${service}/incidents/${incident.id}/retry`);
          await load();
        } catch (error) { setStatus(`${t('editor.error')}: ${error.message}`, 'bad'); }
      });
      item.append(button);
    }
    return item;
  }));
  const list = document.getElementById('instance-list');
  list.replaceChildren(...data.instances.filter((i) => !i.ended_at).map((instance) => {
    const link = el('a', { href: '#', 'data-instance-id': instance.id }, `${instance.id.slice(0, 8)} · ${instance.status} · ${instance.contract_id || ''}`);
    link.addEventListener('click', (event) => { event.preventDefault(); showInstance(instance.id); });
    return el('li', {}, link);
  }));
}

async function load() {
  data = await api('GET', `/api/services/${service}/versions/${versionId}/activity`);
  await viewer.importXML(await withDiagram(data.content));
  fit(viewer);
  document.getElementById('title').textContent = `${t('instances.title')} ${data.version.file_name} v${data.version.sequence}`;
  showCounts(data.elements);
  showLists();
  setStatus(`${data.instances.filter((i) => !i.ended_at).length} ${t('instances.active')} · ${data.incidents.length} ${t('instances.open_incidents')}`);
  root.dataset.loaded = 'true';
}

window.contractflowInstances = { viewer, ready: load().catch((error) => setStatus(`${t('editor.error')}: ${error.message}`, 'bad')) };
