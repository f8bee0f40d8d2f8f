// The build graph's layout, off the main thread: Argo's status tree + the
// templates' dependencies become edges, then a layered (Sugiyama-style)
// layout — longest-path layers, barycentre ordering inside each layer, rows
// centred, layers wider than ROW wrapped — in O(nodes + edges) plus one sort
// per layer, so 20,000 nodes lay out in tens of ms.

const W = 184, H = 38, GAP_X = 22, GAP_Y = 58, ROW = 100, WRAP_GAP = 14;
const LEAF = new Set(['Pod', 'Skipped', 'Suspend']);
const OWNERS = new Set(['Retry', 'TaskGroup', 'StepGroup']);
const NAME = /([A-Za-z0-9][A-Za-z0-9_-]*)(?:\.[A-Za-z]+)?/g;
const KEYWORDS = new Set(['Succeeded', 'Failed', 'Errored', 'Skipped', 'Omitted', 'Daemoned', 'AnySucceeded', 'AllFailed']);

function templateIndex(doc) {
  const byName = new Map();
  for (const t of (doc.spec && doc.spec.templates) || []) byName.set(t.name, t);
  const stored = (doc.status && doc.status.storedTemplates) || {};
  for (const [key, t] of Object.entries(stored)) {
    const name = key.slice(key.lastIndexOf('/') + 1);
    if (!byName.has(name)) byName.set(name, t);
  }
  return byName;
}

/** A DAG template's task → names of the tasks it waits for. */
function dependencies(template) {
  const out = new Map();
  for (const task of (template && template.dag && template.dag.tasks) || []) {
    const names = new Set(task.dependencies || []);
    if (task.depends) {
      for (const match of String(task.depends).matchAll(NAME)) {
        if (!KEYWORDS.has(match[1])) names.add(match[1]);
      }
    }
    out.set(task.name, [...names]);
  }
  return out;
}

function taskName(display) {
  const cut = display.indexOf('(');
  return cut > 0 ? display.slice(0, cut) : display;
}

function buildEdges(nodes, rootId, templates) {
  const edges = [];
  const outboundMemo = new Map();
  const exitsOf = new Map();
  const kids = (n) => (n.children || []).filter((id) => nodes[id]);

  function outbound(id) {
    if (outboundMemo.has(id)) return outboundMemo.get(id);
    outboundMemo.set(id, [id]); // guards against cycles in broken input
    const n = nodes[id];
    let out = [id];
    const children = kids(n);
    if (!LEAF.has(n.type) && children.length) {
      if (OWNERS.has(n.type)) out = children.flatMap(outbound);
      else if (n.type === 'Steps') out = outbound(children[children.length - 1]);
      else if (exitsOf.has(id)) out = exitsOf.get(id).flatMap(outbound);
    }
    if (!out.length) out = [id];
    outboundMemo.set(id, out);
    return out;
  }

  // First pass: each DAG's exits (items nothing else in it waits for).
  const dagDeps = new Map();
  for (const n of Object.values(nodes)) {
    if (n.type !== 'DAG') continue;
    const deps = dependencies(templates.get(n.templateName));
    const items = kids(n);
    const byTask = new Map();
    for (const id of items) {
      const name = taskName(nodes[id].displayName);
      if (!byTask.has(name)) byTask.set(name, []);
      byTask.get(name).push(id);
    }
    const waitedOn = new Set();
    for (const id of items) for (const d of deps.get(taskName(nodes[id].displayName)) || []) waitedOn.add(d);
    exitsOf.set(n.id, items.filter((id) => !waitedOn.has(taskName(nodes[id].displayName))));
    dagDeps.set(n.id, {deps, items, byTask});
  }
  for (const n of Object.values(nodes)) {
    const children = kids(n);
    if (n.type === 'DAG') {
      const {deps, items, byTask} = dagDeps.get(n.id);
      for (const id of items) {
        const wanted = (deps.get(taskName(nodes[id].displayName)) || []).filter((d) => byTask.has(d));
        if (!wanted.length) { edges.push([n.id, id]); continue; }
        for (const dep of wanted) for (const from of byTask.get(dep)) for (const o of outbound(from)) edges.push([o, id]);
      }
    } else if (n.type === 'Steps') {
      children.forEach((id, i) => {
        if (i === 0) edges.push([n.id, id]);
        else for (const o of outbound(children[i - 1])) edges.push([o, id]);
      });
    } else {
      for (const id of children) edges.push([n.id, id]);
    }
  }
  return edges;
}

/** Each node's stage: the top-level task of the root it belongs to (or none). */
function stagesOf(nodes, rootId) {
  const stage = new Map();
  const find = (id, depth = 0) => {
    if (stage.has(id)) return stage.get(id);
    const n = nodes[id];
    let out = null;
    if (n && id !== rootId && depth < 200) {
      const b = n.boundaryID;
      if (!b || b === rootId) out = (n.type === 'DAG' || n.type === 'Steps') ? id : null;
      else out = find(b, depth + 1);
    }
    stage.set(id, out);
    return out;
  };
  for (const id of Object.keys(nodes)) find(id);
  return stage;
}

function layout({doc, collapsed}) {
  const nodes = (doc.status && doc.status.nodes) || {};
  const ids = Object.keys(nodes);
  let rootId = doc.metadata && nodes[doc.metadata.name] ? doc.metadata.name : null;
  if (!rootId) rootId = ids.find((id) => !nodes[id].boundaryID) || ids[0];
  const templates = templateIndex(doc);
  const stage = stagesOf(nodes, rootId);
  const folded = new Set(collapsed || []);
  const represent = (id) => {
    const s = stage.get(id);
    return s && folded.has(s) ? s : id;
  };
  const shown = ids.filter((id) => represent(id) === id);
  const index = new Map(shown.map((id, i) => [id, i]));
  const seen = new Set();
  const from = [], to = [];
  for (const [a0, b0] of buildEdges(nodes, rootId, templates)) {
    const a = index.get(represent(a0)), b = index.get(represent(b0));
    if (a === undefined || b === undefined || a === b) continue;
    const key = a * 1048576 + b;
    if (seen.has(key)) continue;
    seen.add(key);
    from.push(a); to.push(b);
  }
  const n = shown.length;
  // longest-path layers (Kahn)
  const indeg = new Int32Array(n), layer = new Int32Array(n);
  const outStart = new Int32Array(n + 1);
  for (const a of from) outStart[a + 1]++;
  for (let i = 0; i < n; i++) outStart[i + 1] += outStart[i];
  const outList = new Int32Array(from.length), fill = outStart.slice(0, n);
  for (let e = 0; e < from.length; e++) { outList[fill[from[e]]++] = to[e]; indeg[to[e]]++; }
  const queue = [];
  for (let i = 0; i < n; i++) if (!indeg[i]) queue.push(i);
  for (let q = 0; q < queue.length; q++) {
    const u = queue[q];
    for (let k = outStart[u]; k < outStart[u + 1]; k++) {
      const v = outList[k];
      if (layer[u] + 1 > layer[v]) layer[v] = layer[u] + 1;
      if (--indeg[v] === 0) queue.push(v);
    }
  }
  // order inside layers: stage first, then the mean position of the parents
  const layers = [];
  for (let i = 0; i < n; i++) (layers[layer[i]] ||= []).push(i);
  const pos = new Float64Array(n), sum = new Float64Array(n), cnt = new Int32Array(n);
  const stageRank = new Map();
  const rankOf = (i) => {
    const s = stage.get(shown[i]) || '';
    if (!stageRank.has(s)) stageRank.set(s, stageRank.size);
    return stageRank.get(s);
  };
  // A layer wider than ROW nodes (a big fan-out) wraps onto several rows, so a
  // 20,000-item loop is a block, not a strip 4 million pixels wide.
  const x = new Float32Array(n), y = new Float32Array(n);
  let top = 0;
  layers.forEach((row) => {
    if (!row) return;
    const key = row.map((i) => [rankOf(i), cnt[i] ? sum[i] / cnt[i] : 0, i]);
    key.sort((p, q) => p[0] - q[0] || p[1] - q[1] || p[2] - q[2]);
    const width = Math.min(key.length, ROW);
    key.forEach(([, , i], k) => {
      pos[i] = (k % ROW) - (width - 1) / 2;
      x[i] = pos[i] * (W + GAP_X);
      y[i] = top + Math.floor(k / ROW) * (H + WRAP_GAP);
      for (let e = outStart[i]; e < outStart[i + 1]; e++) { sum[outList[e]] += pos[i]; cnt[outList[e]]++; }
    });
    top += Math.ceil(key.length / ROW) * (H + WRAP_GAP) - WRAP_GAP + GAP_Y;
  });
  // stage boxes
  const boxes = new Map();
  for (let i = 0; i < n; i++) {
    const s = stage.get(shown[i]);
    if (!s) continue;
    let b = boxes.get(s);
    if (!b) boxes.set(s, b = {id: s, x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity, count: 0});
    b.x0 = Math.min(b.x0, x[i]); b.y0 = Math.min(b.y0, y[i]);
    b.x1 = Math.max(b.x1, x[i] + W); b.y1 = Math.max(b.y1, y[i] + H); b.count++;
  }
  const groups = [...boxes.values()].map((b) => ({...b, collapsed: folded.has(b.id)}));
  return {ids: shown, x, y, from: Int32Array.from(from), to: Int32Array.from(to), groups, rootId, W, H};
}

self.onmessage = (event) => {
  const started = performance.now();
  const result = layout(event.data);
  result.seq = event.data.seq;
  result.ms = performance.now() - started;
  self.postMessage(result, [result.x.buffer, result.y.buffer, result.from.buffer, result.to.buffer]);
};
