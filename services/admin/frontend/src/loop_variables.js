// SpiffWorkflow reads a multi-instance task's loopDataInputRef / loopDataOutputRef as the
// names of process variables ("approvers"); BPMN declares them references to a data
// element's id. bpmn-moddle drops a reference it cannot resolve, so opening such a task
// and exporting it would lose the collection it loops over (the engine then refuses the
// version: "must specify a cardinality or a loop input data reference"). The names are
// read from the document as it came and put back as stand-in data elements of that id,
// which the export writes as the same text.
const BPMN_NS = 'http://www.omg.org/spec/BPMN/20100524/MODEL';
const KINDS = { loopDataInputRef: 'bpmn:DataInput', loopDataOutputRef: 'bpmn:DataOutput' };

export function loopVariables(xml) {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  const found = [];
  for (const loop of doc.getElementsByTagNameNS(BPMN_NS, 'multiInstanceLoopCharacteristics')) {
    const owner = loop.parentElement?.getAttribute('id');
    for (const child of loop.children) {
      const value = child.textContent.trim();
      if (owner && value && child.namespaceURI === BPMN_NS && KINDS[child.localName]) {
        found.push({ owner, name: child.localName, value });
      }
    }
  }
  return found;
}

export function keepLoopVariables(modeler, found) {
  const moddle = modeler.get('moddle');
  const registry = modeler.get('elementRegistry');
  for (const { owner, name, value } of found) {
    const loop = registry.get(owner)?.businessObject?.loopCharacteristics;
    if (loop && !loop.get(name)) loop.set(name, moddle.create(KINDS[name], { id: value }));
  }
}
