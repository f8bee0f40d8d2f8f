// The fleet: every cluster with its last build and validation, live.
import {api} from './api.js';
import {ago, buildHref, duration, h, isoOfEpoch, phaseBadge} from './dom.js';
import {debounce, LiveStream, liveIndicator} from './live.js';
import {sortableTable} from './table.js';

const COLUMNS = [
  {key: 'name', label: 'Cluster', value: (c) => c.name, cell: (c) => h('strong', {}, c.name)},
  {key: 'provider', label: 'Provider', value: (c) => c.provider, cell: (c) => c.provider},
  {key: 'version', label: 'Kubernetes', value: (c) => c.kubernetes_version, cell: (c) => c.kubernetes_version},
  {key: 'groups', label: 'Node groups', cell: (c) => h('ul', {class: 'plain'}, c.node_groups.map((g) => h('li', {}, g)))},
  {key: 'build', label: 'Last build', value: (c) => c.last_build_phase,
    cell: (c) => h('span', {}, h('a', {href: buildHref(c.last_build)}, phaseBadge(c.last_build_phase)), ' ', h('span', {class: 'muted'}, c.last_build_stage || ''))},
  {key: 'when', label: 'When', value: (c) => c.last_build_created_at || 0, cell: (c) => ago(isoOfEpoch(c.last_build_created_at))},
  {key: 'duration', label: 'Duration', value: (c) => (c.last_build_finished_at || Date.now() / 1000) - (c.last_build_started_at || 0),
    cell: (c) => duration(isoOfEpoch(c.last_build_started_at), isoOfEpoch(c.last_build_finished_at))},
  {key: 'validation', label: 'Validation', value: (c) => c.last_validation_result || '',
    cell: (c) => (c.last_validation ? h('span', {}, h('a', {href: buildHref(c.last_validation)}, phaseBadge(c.last_validation_result)),
      c.last_validation_failed ? h('span', {class: 'failing'}, ` ${c.last_validation_failed} failing`) : '',
      ' ', h('span', {class: 'muted'}, ago(isoOfEpoch(c.last_validation_at)))) : h('span', {class: 'muted'}, 'none yet'))},
];

export function renderFleet(main) {
  const filter = h('input', {type: 'search', id: 'fleet-filter', placeholder: 'Filter by name, provider, version, phase', 'aria-label': 'Filter clusters'});
  const table = sortableTableFor();
  const count = h('span', {class: 'muted', role: 'status'});
  main.append(h('section', {class: 'page'}, h('div', {class: 'bar'}, h('h1', {}, 'Fleet'), filter, count), table.el));
  let clusters = [];
  const draw = () => {
    const needle = filter.value.trim().toLowerCase();
    const shown = clusters.filter((c) => !needle || [c.name, c.provider, c.kubernetes_version, c.last_build_phase, c.last_validation_result].join(' ').toLowerCase().includes(needle));
    count.textContent = `${shown.length} of ${clusters.length} cluster(s)`;
    table.update(shown);
  };
  filter.addEventListener('input', draw);
  let loads = 0; // only the latest load's answer is shown (answers can cross)
  const load = async () => {
    const mine = ++loads;
    try {
      const answer = await api('/api/v1/clusters');
      if (mine === loads) { clusters = answer; draw(); }
    } catch (err) { if (mine === loads) count.textContent = err.message; }
  };
  load();
  const stream = new LiveStream('/api/v1/changes', {changed: debounce(load, 400)}, {onState: liveIndicator});
  return () => stream.close();
}

function sortableTableFor() {
  return sortableTable(COLUMNS, {caption: 'Clusters, their last build and validation', empty: 'No clusters yet — start one from “New build”.', sortKey: 'name'});
}
