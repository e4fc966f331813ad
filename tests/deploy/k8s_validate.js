#!/usr/bin/env node
// Offline validation of Kubernetes manifests, for deploy/k8s (no cluster, no
// kubeconform here). Usage:
//   node tests/deploy/k8s_validate.js [--consistency] FILE.yaml|- ...
// ("-" reads standard input, e.g. `kubectl kustomize DIR | node ... -`).
//
// 1. Schema: every document against the Kubernetes OpenAPI schema of its
//    apiVersion/kind (npm kubernetes-models@4).
// 2. Strict: unknown fields (a misspelt key passes the schema) through
//    TypeScript excess-property checks on the same models' types.
// 3. --consistency, for one rendered set of objects: what refers to what
//    exists and matches (each Service and PDB to some Deployment's pods,
//    each HPA to its target, every workload's volumes to ConfigMaps and
//    PVCs, probes to container ports),
//    the grace period covers preStop plus the server's --shutdown_grace, and
//    a Deployment an HPA scales sets no replicas.
// Prints one line per problem naming FILE#DOC and the object; exit 1 if any.
'use strict';
const fs = require('fs');
const path = require('path');
const YAML = require('yaml');

const problems = [];
const docs = [];  // {where, obj, mod}
const args = process.argv.slice(2);
const consistency = args[0] === '--consistency';
const files = consistency ? args.slice(1) : args;
if (files.length === 0) {
  console.error('usage: k8s_validate.js [--consistency] FILE.yaml|- ...');
  process.exit(2);
}

for (const file of files) {
  const text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  YAML.parseAllDocuments(text).forEach((doc, i) => {
    const where = `${file === '-' ? 'stdin' : file}#${i}`;
    if (doc.errors.length) {
      problems.push(`${where}: YAML: ${doc.errors[0].message}`);
      return;
    }
    const obj = doc.toJS();
    if (!obj) return;
    const name = `${obj.kind}/${obj.metadata && obj.metadata.name}`;
    const mod = `kubernetes-models/${obj.apiVersion}/${obj.kind}`;
    let Model;
    try {
      Model = require(mod)[obj.kind];
    } catch (e) {
      problems.push(`${where} ${name}: unknown apiVersion/kind ${obj.apiVersion} ${obj.kind}`);
      return;
    }
    try {
      new Model(obj).validate();
    } catch (e) {
      for (const err of e.errors || [{message: e.message}])
        problems.push(`${where} ${name}: ${err.instancePath || ''} ${err.message}`);
    }
    docs.push({where, name, obj, mod});
  });
}

function strictPass() {
  const ts = require('typescript');
  const source = docs.map((d, i) =>
    `import { I${d.obj.kind} as T${i} } from ${JSON.stringify(d.mod)};\n` +
    `export const d${i}: T${i} = ${JSON.stringify(d.obj, null, 1)};\n`).join('\n');
  const tsFile = path.join(__dirname, `.strict-${process.pid}.ts`);
  fs.writeFileSync(tsFile, source);
  try {
    const program = ts.createProgram([tsFile], {
      noEmit: true, strict: true, skipLibCheck: true, module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10, target: ts.ScriptTarget.ES2020});
    for (const diag of ts.getPreEmitDiagnostics(program)) {
      if (!diag.file || diag.file.fileName !== tsFile) continue;
      const message = ts.flattenDiagnosticMessageText(diag.messageText, ' ');
      if (!/Object literal may only specify known properties/.test(message)) continue;
      const line = diag.file.getLineAndCharacterOfPosition(diag.start).line;
      const header = source.split('\n').slice(0, line + 1).reverse()
          .find((l) => /^export const d\d+/.test(l));
      const d = docs[Number(header.match(/^export const d(\d+)/)[1])];
      problems.push(`${d.where} ${d.name}: unknown field: ${message.slice(0, 200)}`);
    }
  } finally {
    fs.unlinkSync(tsFile);
  }
}

// True when every key/value of `selector` is among `labels`.
function selects(selector, labels) {
  return Object.entries(selector || {}).every(([k, v]) => (labels || {})[k] === v);
}

function consistencyPass() {
  const byKind = (kind) => docs.filter((d) => d.obj.kind === kind);
  const find = (kind, name) => byKind(kind).find((d) => d.obj.metadata.name === name);
  // Every workload's volumes name objects that exist.
  const podSpecs = [
    ...byKind('Deployment').map((d) => [d, d.obj.spec.template.spec]),
    ...byKind('CronJob').map((d) => [d, d.obj.spec.jobTemplate.spec.template.spec]),
  ];
  for (const [d, podSpec] of podSpecs) {
    for (const vol of podSpec.volumes || []) {
      if (vol.configMap && !find('ConfigMap', vol.configMap.name))
        problems.push(`${d.where} ${d.name}: volume ${vol.name}: no ConfigMap ${vol.configMap.name}`);
      const claim = vol.persistentVolumeClaim;
      if (claim && !find('PersistentVolumeClaim', claim.claimName))
        problems.push(`${d.where} ${d.name}: volume ${vol.name}: no PVC ${claim.claimName}`);
    }
  }
  const deployments = byKind('Deployment');
  if (deployments.length === 0) problems.push('no Deployment among the documents');
  for (const dep of deployments) {
    const spec = dep.obj.spec;
    const podLabels = spec.template.metadata.labels;
    if (!selects(spec.selector.matchLabels, podLabels))
      problems.push(`${dep.where} ${dep.name}: selector does not match the pod labels`);
    for (const c of spec.template.spec.containers) {
      const ports = new Set((c.ports || []).flatMap((p) => [p.containerPort, p.name]));
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
        if (!c[probe]) {
          problems.push(`${dep.where} ${dep.name}: container ${c.name} has no ${probe}`);
        } else {
          const port = (c[probe].grpc || c[probe].tcpSocket || c[probe].httpGet || {}).port;
          if (port !== undefined && !ports.has(port))
            problems.push(`${dep.where} ${dep.name}: ${probe} port ${port} is not a container port`);
        }
      }
      // SIGTERM comes after preStop; the server then drains for up to
      // --shutdown_grace. Both must fit in the grace period, with 5 s spare.
      const sleep = ((((c.lifecycle || {}).preStop || {}).exec || {}).command || [])
          .map(Number).find((n) => !isNaN(n)) || 0;
      const flagsText = byKind('ConfigMap').map((d) => Object.values(d.obj.data || {}).join('\n')).join('\n');
      const drain = Number((flagsText.match(/--shutdown_grace=(\d+)s/) || [0, 10])[1]);
      const grace = spec.template.spec.terminationGracePeriodSeconds || 30;
      if (grace < sleep + drain + 5)
        problems.push(`${dep.where} ${dep.name}: terminationGracePeriodSeconds ${grace} < preStop ${sleep} s + --shutdown_grace ${drain} s + 5 s`);
    }
  }
  // Each Service and PDB selects the pods of some Deployment (a set may hold
  // several, e.g. recall-server and the click stream's Redis), and a
  // Service's named targetPorts are container ports of the pods it selects.
  const podsOf = (selector) =>
    deployments.filter((dep) => selects(selector, dep.obj.spec.template.metadata.labels));
  const names = deployments.map((dep) => dep.name).join(', ');
  if (deployments.length) {
    for (const svc of byKind('Service')) {
      const selected = podsOf(svc.obj.spec.selector);
      if (selected.length === 0) {
        problems.push(`${svc.where} ${svc.name}: selector matches no pod of ${names}`);
        continue;
      }
      const ports = new Set(selected.flatMap((dep) => dep.obj.spec.template.spec.containers
          .flatMap((c) => (c.ports || []).map((p) => p.name))));
      for (const p of svc.obj.spec.ports)
        if (typeof p.targetPort === 'string' && !ports.has(p.targetPort))
          problems.push(`${svc.where} ${svc.name}: targetPort ${p.targetPort} is no container port name`);
    }
    for (const pdb of byKind('PodDisruptionBudget'))
      if (podsOf(pdb.obj.spec.selector.matchLabels).length === 0)
        problems.push(`${pdb.where} ${pdb.name}: selector matches no pod of ${names}`);
  }
  for (const hpa of byKind('HorizontalPodAutoscaler')) {
    const target = hpa.obj.spec.scaleTargetRef;
    const scaled = find(target.kind, target.name);
    if (!scaled)
      problems.push(`${hpa.where} ${hpa.name}: scaleTargetRef ${target.kind}/${target.name} does not exist`);
    // The HPA owns the count: a replicas field would reset it on every apply.
    else if (scaled.obj.spec.replicas !== undefined)
      problems.push(`${scaled.where} ${scaled.name}: sets replicas although ${hpa.name} scales it`);
    if (hpa.obj.spec.minReplicas > hpa.obj.spec.maxReplicas)
      problems.push(`${hpa.where} ${hpa.name}: minReplicas > maxReplicas`);
  }
}

strictPass();
if (consistency) consistencyPass();
for (const d of docs) console.log(`${d.where} ${d.name}: checked`);
for (const p of problems) console.log(`PROBLEM ${p}`);
console.log(`${docs.length} objects, ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
