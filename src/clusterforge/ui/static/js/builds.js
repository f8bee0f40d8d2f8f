// Every build and workflow the engine ran: newest first, filtered, paginated, live.
import {api} from './api.js';
import {ago, buildHref, duration, h, phaseBadge} from './dom.js';
import {debounce, LiveStream, liveIndicator} from './live.js';
import {sortableTable} from './table.js';

const PAGE = 25;

const COLUMNS = [
  {key: 'id', label: 'Build', cell: (b) => h('a', {href: buildHref(b.id)}, b.id)},
  {key: 'cluster', label: 'Cluster', cell: (b) => b.cluster || '—'},
  {key: 'stage', label: 'Stage', cell: (b) => b.stage || (b.labels || {})['clusterforge.dev/sensor'] || 'workflow'},
  {key: 'phase', label: 'Phase', cell: (b) => phaseBadge(b.phase)},
  {key: 'created', label: 'Created', cell: (b) => ago(b.createdAt)},
  {key: 'duration', label: 'Duration', cell: (b) => duration(b.startedAt, b.finishedAt)},
  {key: 'message', label: 'Message', cell: (b) => b.message || ''},
];

export function renderBuilds(main) {
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const cluster = h('input', {type: 'search', id: 'f-cluster', 'aria-label': 'Cluster', placeholder: 'cluster', value: params.get('cluster') || ''});
  const stage = h('select', {id: 'f-stage', 'aria-label': 'Stage'},
    ['', 'build', 'preflight', 'core', 'addons', 'validation', 'destroy'].map((s) => h('option', {value: s}, s || 'any stage')));
  const phase = h('select', {id: 'f-phase', 'aria-label': 'Phase'},
    ['', 'Pending', 'Running', 'Succeeded', 'Failed', 'Error'].map((p) => h('option', {value: p}, p || 'any phase')));
  const prev = h('button', {type: 'button'}, '← Newer');
  const next = h('button', {type: 'button'}, 'Older →');
  const where = h('span', {class: 'muted', role: 'status'});
  const table = sortableTable(COLUMNS, {caption: 'Builds, newest first', empty: 'No builds match.'});
  main.append(h('section', {class: 'page'},
    h('div', {class: 'bar'}, h('h1', {}, 'Builds'), cluster, stage, phase),
    table.el, h('div', {class: 'bar'}, prev, where, next)));
  let offset = 0;
  // Only the latest load's answer is shown: the first, unfiltered page arriving
  // after a filtered one would otherwise show rows the filter excludes.
  let loads = 0;
  const load = async () => {
    const mine = ++loads;
    const query = new URLSearchParams({limit: PAGE, offset});
    if (cluster.value.trim()) query.set('cluster', cluster.value.trim());
    if (stage.value) query.set('stage', stage.value);
    if (phase.value) query.set('phase', phase.value);
    try {
      const page = await api(`/api/v1/builds?${query}`);
      if (mine !== loads) return;
      table.update(page.items);
      where.textContent = page.items.length ? `${offset + 1}–${offset + page.items.length}` : '';
      prev.disabled = offset === 0;
      next.disabled = !page.next;
    } catch (err) { if (mine === loads) where.textContent = err.message; }
  };
  const reload = () => { offset = 0; load(); };
  cluster.addEventListener('input', debounce(reload, 250));
  stage.addEventListener('change', reload);
  phase.addEventListener('change', reload);
  prev.addEventListener('click', () => { offset = Math.max(0, offset - PAGE); load(); });
  next.addEventListener('click', () => { offset += PAGE; load(); });
  load();
  const stream = new LiveStream('/api/v1/changes', {changed: debounce(load, 400)}, {onState: liveIndicator});
  return () => stream.close();
}
