// A properties panel for what the runtime reads from SpiffWorkflow's extensions: form key,
// candidate role, due-in and correlation key (spiffworkflow:property), the service-task
// operator and its parameters, the message payload and the called decision. bpmn-js keeps
// these foreign elements as generic ones ($type, attributes as fields, $children, $body); the panel
// edits them in place and tells the modeler the element changed (lint, dirty state).
import { el, t } from './common.js';

const NS = 'http://spiffworkflow.org/bpmn/schema/1.0/core';
const PROPERTIES = ['formKey', 'candidateRole', 'dueIn', 'correlationKey'];

function extensions(bo, moddle, create) {
  if (!bo.extensionElements && create) {
    bo.extensionElements = moddle.create('bpmn:ExtensionElements', { values: [] });
    bo.extensionElements.$parent = bo;
  }
  return bo.extensionElements?.values || [];
}

function findAny(values, type) {
  return values.find((v) => v.$type === type);
}

function propertyOf(bo, name) {
  const holder = findAny(extensions(bo), 'spiffworkflow:properties');
  const found = (holder?.$children || []).find((p) => p.name === name);
  return found ? found.value ?? '' : '';
}

function setProperty(bo, moddle, name, value) {
  const values = extensions(bo, moddle, true);
  let holder = findAny(values, 'spiffworkflow:properties');
  if (!holder) {
    holder = moddle.createAny('spiffworkflow:properties', NS, {});
    holder.$parent = bo.extensionElements;
    values.push(holder);
  }
  holder.$children = holder.$children || [];
  const found = holder.$children.find((p) => p.name === name);
  if (found && value === '') holder.$children.splice(holder.$children.indexOf(found), 1);
  else if (found) found.value = value;
  else if (value !== '') {
    const property = moddle.createAny('spiffworkflow:property', NS, { name, value });
    property.$parent = holder;
    holder.$children.push(property);
  }
}

function bodyOf(bo, type) {
  const found = findAny(extensions(bo), type);
  return found ? found.$body ?? '' : null;
}

export function propertiesPanel(modeler, container) {
  const moddle = modeler.get('moddle');
  const eventBus = modeler.get('eventBus');
  const modeling = modeler.get('modeling');

  // The panel's own edits must not re-render it under the person typing in it.
  let applying = false;
  function apply(change) {
    applying = true;
    try { change(); } finally { applying = false; }
  }

  function changed(element) {
    apply(() => eventBus.fire('elements.changed', { elements: [element] }));
  }

  function field(label, value, onChange, attrs = {}) {
    const input = el('input', { type: 'text', value, ...attrs });
    input.addEventListener('change', () => onChange(input.value.trim()));
    return el('label', { class: 'prop' }, el('span', {}, label), input);
  }

  function render(element) {
    if (!element || element.type === 'bpmn:Process' || element.labelTarget) {
      container.replaceChildren(el('p', { class: 'note' }, t('props.pick')));
      return;
    }
    const bo = element.businessObject;
    const rows = [
      el('h3', {}, `${bo.$type.replace('bpmn:', '')} · ${bo.id}`),
      field(t('props.name'), bo.name || '', (v) => apply(() => modeling.updateLabel(element, v)), { 'data-prop': 'name' }),
    ];
    if (/Task$|CallActivity|Event$/.test(bo.$type)) {
      for (const name of PROPERTIES) {
        rows.push(field(t(`props.${name}`), propertyOf(bo, name), (v) => { setProperty(bo, moddle, name, v); changed(element); }, { 'data-prop': name }));
      }
    }
    const operator = findAny(extensions(bo), 'spiffworkflow:serviceTaskOperator');
    if (operator) {
      rows.push(field(t('props.operator'), operator.id || '', (v) => { operator.id = v; changed(element); }, { 'data-prop': 'operator' }));
      const parameters = findAny(operator.$children || [], 'spiffworkflow:parameters');
      for (const parameter of parameters?.$children || []) {
        rows.push(field(`${t('props.parameter')} ${parameter.id}`, parameter.value || '', (v) => { parameter.value = v; changed(element); }));
      }
    }
    for (const [type, key] of [['spiffworkflow:messagePayload', 'props.payload'], ['spiffworkflow:calledDecisionId', 'props.decision']]) {
      const body = bodyOf(bo, type);
      if (body === null) continue;
      const holder = findAny(extensions(bo), type);
      rows.push(field(t(key), body, (v) => { holder.$body = v; changed(element); }));
    }
    container.replaceChildren(...rows);
  }

  eventBus.on('selection.changed', ({ newSelection }) => render(newSelection.length === 1 ? newSelection[0] : null));
  eventBus.on('element.changed', ({ element }) => {
    const selected = modeler.get('selection').get();
    if (!applying && selected.length === 1 && selected[0] === element) render(element);
  });
  render(null);
}
