// A sortable, filterable table shared by the fleet and builds pages.
import {clear, h} from './dom.js';

/**
 * columns: [{key, label, value: row => sortable, cell: row => Node|string}]
 * Returns {el, update(rows)}; sort state survives updates.
 */
export function sortableTable(columns, {caption, empty = 'Nothing yet.', sortKey = null, descending = false} = {}) {
  const state = {sortKey, descending, rows: []};
  const tbody = h('tbody');
  const headRow = h('tr');
  const table = h('table', {class: 'grid'}, caption ? h('caption', {}, caption) : null, h('thead', {}, headRow), tbody);
  for (const col of columns) {
    const button = h('button', {type: 'button', class: 'sort', onclick: () => {
      state.descending = state.sortKey === col.key ? !state.descending : false;
      state.sortKey = col.key;
      draw();
    }}, col.label);
    col.th = h('th', {scope: 'col'}, col.value ? button : col.label);
    headRow.append(col.th);
  }
  function draw() {
    const rows = [...state.rows];
    const col = columns.find((c) => c.key === state.sortKey);
    if (col && col.value) {
      rows.sort((a, b) => {
        const x = col.value(a); const y = col.value(b);
        const order = x < y ? -1 : x > y ? 1 : 0;
        return state.descending ? -order : order;
      });
    }
    for (const c of columns) {
      c.th.setAttribute('aria-sort', c.key === state.sortKey ? (state.descending ? 'descending' : 'ascending') : 'none');
    }
    clear(tbody);
    if (!rows.length) tbody.append(h('tr', {}, h('td', {colspan: columns.length, class: 'muted'}, empty)));
    for (const row of rows) {
      tbody.append(h('tr', {}, columns.map((c) => h('td', {'data-col': c.key}, c.cell(row)))));
    }
  }
  return {el: table, update(rows) { state.rows = rows; draw(); }};
}
