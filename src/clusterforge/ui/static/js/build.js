// One build: the live graph, the selected node's panel, the validation report
// and the actions. The first state comes from GET /api/v1/builds/ID; then the
// build's SSE stream (resuming with Last-Event-ID) moves phases in place, and
// a node the graph has not seen yet triggers one debounced refetch + relayout.
import {api, session} from './api.js';
import {h, phaseBadge} from './dom.js';
import {GraphView} from './graph.js';
import {debounce, LiveStream, liveIndicator} from './live.js';
import {NodePanel} from './panel.js';
import {renderReport} from './report.js';
import {actionBar} from './actions.js';
import {takeEarly} from './prefetch.js';

const TERMINAL = new Set(['Succeeded', 'Failed', 'Error', 'Skipped', 'Omitted']);

export function renderBuild(main, buildId) {
  performance.mark('cf-build-page');
  const title = h('h1', {}, buildId);
  const status = h('span', {class: 'status', role: 'status'});
  const search = h('input', {type: 'search', id: 'node-search', placeholder: 'Find a node by name ( / )', 'aria-label': 'Find a node by name'});
  const found = h('span', {class: 'muted', id: 'node-found', 'aria-live': 'polite'});
  const canvas = h('canvas', {id: 'graph', tabindex: '0', role: 'img', 'aria-label': 'Workflow graph. Arrow keys move between nodes, Shift+arrows pan, + and - zoom, 0 fits, Escape clears the selection.'});
  const panelEl = h('aside', {class: 'panel', id: 'node-panel', 'aria-label': 'Selected node'});
  const reportEl = h('section', {class: 'report', id: 'report'});
  const actions = h('div', {class: 'actions'});
  const meta = h('p', {class: 'muted meta'});
  const groupsEl = h('div', {class: 'groups', role: 'group', 'aria-label': 'Stages'});
  main.append(h('section', {class: 'page build'},
    h('div', {class: 'bar'}, title, status, actions),
    meta,
    h('div', {class: 'bar tools'}, search, found,
      h('button', {type: 'button', onclick: () => graph.zoomAt(1.25), 'aria-label': 'Zoom in'}, '+'),
      h('button', {type: 'button', onclick: () => graph.zoomAt(0.8), 'aria-label': 'Zoom out'}, '−'),
      h('button', {type: 'button', onclick: () => graph.fit()}, 'Fit'),
      groupsEl),
    h('div', {class: 'split'}, h('div', {class: 'canvas-wrap'}, canvas), panelEl),
    reportEl));

  const state = {doc: null, nodes: {}, collapsed: new Set(), seq: 0, lastAt: new Map()};
  const panel = new NodePanel(panelEl, buildId);
  const worker = new Worker('/ui/js/layout-worker.js');
  const graph = new GraphView(canvas, {
    onSelect: (id) => (id ? panel.show(state.nodes, id) : panel.empty()),
    onToggleGroup: (id) => toggleGroup(id),
  });

  function toggleGroup(id) {
    if (state.collapsed.has(id)) state.collapsed.delete(id); else state.collapsed.add(id);
    relayout();
  }

  function relayout() {
    state.seq++;
    worker.postMessage({doc: state.doc, collapsed: [...state.collapsed], seq: state.seq});
  }

  worker.onmessage = (event) => {
    const layout = event.data;
    if (layout.seq !== state.seq) return;
    performance.measure('cf-layout', {start: performance.now() - layout.ms, duration: layout.ms});
    graph.setData(state.nodes, layout);
    drawGroups(layout);
    findNodes(); // a search's matches are indices into the layout: recount them
  };

  function drawGroups(layout) {
    groupsEl.replaceChildren(...layout.groups.map((g) => {
      const n = state.nodes[g.id];
      return h('button', {type: 'button', class: 'group-toggle', 'aria-pressed': String(!g.collapsed), 'data-stage': n ? n.displayName : g.id,
        onclick: () => toggleGroup(g.id)}, phaseBadge(n ? n.phase : '', `${g.collapsed ? '▸' : '▾'} ${n ? n.displayName : g.id}`));
    }));
  }

  function showHeader() {
    const doc = state.doc;
    const labels = (doc.metadata && doc.metadata.labels) || {};
    title.textContent = doc.metadata.name;
    status.replaceChildren(phaseBadge(doc.status.phase));
    const wf = doc.status;
    meta.textContent = [labels['clusterforge.dev/cluster'] ? `cluster ${labels['clusterforge.dev/cluster']}` : '',
      labels['clusterforge.dev/stage'] ? `stage ${labels['clusterforge.dev/stage']}` : '',
      wf.progress ? `progress ${wf.progress}` : '', wf.message || ''].filter(Boolean).join(' · ');
    actionBar(actions, {buildId, doc, session, reload: () => { load(); follow(); }});
  }

  // Answers to overlapping loads can arrive out of order (a retry's reload and
  // the end of the stream, say): only the latest load's answer is shown, or an
  // older document would put the header and its buttons back a phase.
  let loads = 0;
  async function load() {
    const mine = ++loads;
    let doc;
    try {
      const early = takeEarly(buildId);
      doc = early ? await early.catch(() => null) : null; // refused before sign-in: ask again
      const asked = performance.now();
      if (!doc) {
        doc = await api(`/api/v1/builds/${encodeURIComponent(buildId)}`);
        performance.measure('cf-doc-fetch', {start: asked, end: performance.now()});
      }
    } catch (err) {
      if (mine === loads) status.textContent = err.message;
      return;
    }
    if (mine !== loads) return;
    state.doc = doc;
    state.nodes = state.doc.status.nodes || {};
    for (const n of Object.values(state.nodes)) state.lastAt.set(n.id, Date.parse(n.finishedAt || n.startedAt || 0) || 0);
    showHeader();
    relayout();
    const id = graph.selectedId();
    if (id) panel.show(state.nodes, id);
    renderReport(reportEl, buildId);
  }

  /** The stream's end carries the build's final phase: the header and the actions
   * take it at once, together, before the full document is fetched again. */
  function finished(end) {
    if (state.doc && end.workflow === buildId) {
      Object.assign(state.doc.status, {phase: end.phase, message: end.message || state.doc.status.message});
      showHeader();
    }
    load();
  }

  const refetch = debounce(load, 250);
  let pending = [];
  let flush = 0;
  function apply() {
    flush = 0;
    let unknown = false, selectedChanged = false;
    for (const ev of pending) {
      const node = state.nodes[ev.nodeId];
      if (!node) { unknown = true; continue; }
      const at = Date.parse(ev.at) || 0;
      if (at < (state.lastAt.get(ev.nodeId) || 0)) continue; // a replayed, older change
      state.lastAt.set(ev.nodeId, at);
      node.phase = ev.phase;
      if (ev.message) node.message = ev.message;
      if (ev.phase === 'Running' && !node.startedAt) node.startedAt = ev.at;
      if (TERMINAL.has(ev.phase)) node.finishedAt = node.finishedAt || ev.at;
      if (ev.nodeId === graph.selectedId()) selectedChanged = true;
    }
    pending = [];
    graph.request();
    if (graph.layout) drawGroups(graph.layout);
    // The root node's end is not the build's: an exit handler may still run, and
    // the build is not done (nor retryable) until the server says so — the
    // stream's end event (finished) brings that.
    const root = graph.layout && state.nodes[graph.layout.rootId];
    if (root && !TERMINAL.has(root.phase)) status.replaceChildren(phaseBadge(root.phase));
    if (selectedChanged) panel.show(state.nodes, graph.selectedId());
    if (unknown) refetch();
  }

  let stream = null;
  function follow() {
    if (stream && !stream.closed) return;
    const after = stream ? stream.lastId : null;
    stream = new LiveStream(`/api/v1/builds/${encodeURIComponent(buildId)}/events`, {
      node: (ev) => { pending.push(ev); if (!flush) flush = requestAnimationFrame(apply); },
      end: (end) => { stream.close(); liveIndicator('done'); finished(end); },
    }, {onState: liveIndicator, after});
  }
  follow();

  // The matches are recomputed whenever the graph is laid out again (a stage's
  // nodes appear, a group folds): indices of an older layout would select
  // another node, and a node that appeared after the search was typed would
  // never be found.
  let matches = [], at = -1, atId = null;
  function findNodes() {
    matches = graph.search(search.value);
    at = atId ? matches.findIndex((i) => graph.layout.ids[i] === atId) : -1;
    found.textContent = search.value ? `${matches.length} match(es) — Enter for the next` : '';
  }
  search.addEventListener('input', () => { atId = null; findNodes(); });
  search.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || !matches.length) return;
    e.preventDefault();
    at = (at + 1) % matches.length;
    atId = graph.layout.ids[matches[at]];
    graph.select(matches[at], {center: true});
  });
  const slash = (e) => {
    if (e.key === '/' && document.activeElement !== search && !(e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement)) {
      e.preventDefault(); search.focus();
    }
  };
  document.addEventListener('keydown', slash);
  load();
  return () => { stream.close(); worker.terminate(); panel.stopLogs(); document.removeEventListener('keydown', slash); };
}
