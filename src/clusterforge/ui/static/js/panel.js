// The side panel of the selected node: phase, timing, parameters, every
// attempt (exit code, message, start/finish) and its logs, following live.
import {append, clear, duration, h, phaseBadge} from './dom.js';

const MAX_LOG_LINES = 5000;

function params(list) {
  if (!list || !list.length) return h('p', {class: 'muted'}, 'none');
  return h('dl', {class: 'params'}, list.flatMap((p) => [h('dt', {}, p.name), h('dd', {}, h('code', {}, p.value ?? p.default ?? ''))]));
}

/** The time of day of an ISO timestamp (UTC), full stamp in the title. */
function clock(iso) {
  return iso ? h('time', {datetime: iso, title: iso}, iso.slice(11, 19)) : '';
}

function attemptsOf(nodes, node) {
  if (node.type === 'Retry') return (node.children || []).map((id) => nodes[id]).filter(Boolean);
  if (node.type === 'Pod') return [node];
  return [];
}

export class NodePanel {
  constructor(el, buildId) {
    this.el = el;
    this.buildId = buildId;
    this.abort = null;
    this.nodeId = null;
    this.empty();
  }

  empty() {
    this.stopLogs();
    this.nodeId = null;  // selecting the same node again opens its logs again
    clear(this.el).append(h('h2', {}, 'Node'), h('p', {class: 'muted'}, 'Select a node in the graph (click it, or focus the graph and use the arrow keys) to see its parameters, attempts and logs.'));
  }

  show(nodes, id) {
    const node = nodes[id];
    if (!node) { this.empty(); return; }
    const again = this.nodeId === id;
    this.nodeId = id;
    const logBox = again && this.logBox ? this.logBox : h('pre', {class: 'logs', tabindex: '0', 'aria-label': 'Logs', 'aria-live': 'off'});
    const inputs = (node.inputs && node.inputs.parameters) || [];
    const outputs = [...((node.outputs && node.outputs.parameters) || [])];
    if (node.outputs && node.outputs.result !== undefined) outputs.push({name: 'result', value: node.outputs.result});
    if (node.outputs && node.outputs.exitCode !== undefined) outputs.push({name: 'exitCode', value: node.outputs.exitCode});
    const attempts = attemptsOf(nodes, node);
    append(clear(this.el), [
      h('h2', {}, node.displayName),
      h('p', {}, phaseBadge(node.phase), ' ', h('span', {class: 'muted'}, `${node.type}${node.templateName ? ` · template ${node.templateName}` : ''}`)),
      node.message ? h('p', {class: node.phase === 'Skipped' || node.phase === 'Omitted' ? 'reason' : 'message'}, node.phase === 'Skipped' || node.phase === 'Omitted' ? 'Reason: ' : '', node.message) : null,
      h('p', {class: 'muted'}, node.startedAt ? `started ${node.startedAt.replace('T', ' ')}${node.finishedAt ? `, finished ${node.finishedAt.slice(11)}` : ''} · ${duration(node.startedAt, node.finishedAt)}` : 'not started'),
      h('h3', {}, 'Inputs'), params(inputs),
      h('h3', {}, 'Outputs'), params(outputs),
      attempts.length ? h('h3', {}, `Attempts (${attempts.length})`) : null,
      attempts.length ? h('table', {class: 'grid attempts'},
        h('thead', {}, h('tr', {}, ['#', 'Phase', 'Exit', 'Message', 'Started (UTC)', 'Finished'].map((t) => h('th', {scope: 'col'}, t)))),
        h('tbody', {}, attempts.map((a, i) => h('tr', {},
          h('td', {}, String(i + 1)), h('td', {}, phaseBadge(a.phase)),
          h('td', {}, (a.outputs && a.outputs.exitCode) ?? ''), h('td', {}, a.message || ''),
          h('td', {}, clock(a.startedAt)), h('td', {}, clock(a.finishedAt)))))) : null,
      attempts.length || node.type === 'Pod' ? h('h3', {}, 'Logs') : null,
      attempts.length || node.type === 'Pod' ? logBox : null,
    ]);
    if (!again && (attempts.length || node.type === 'Pod')) this.followLogs(id, logBox);
  }

  stopLogs() {
    if (this.abort) this.abort.abort();
    this.abort = null;
    this.logBox = null;
  }

  async followLogs(id, box) {
    this.stopLogs();
    this.logBox = box;
    const abort = new AbortController();
    this.abort = abort;
    const url = `/api/v1/builds/${encodeURIComponent(this.buildId)}/nodes/${encodeURIComponent(id)}/logs?follow=true&format=ndjson`;
    try {
      const response = await fetch(url, {credentials: 'same-origin', signal: abort.signal});
      if (!response.ok) { box.textContent = `logs unavailable (HTTP ${response.status})`; return; }
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let rest = '';
      for (;;) {
        const {value, done} = await reader.read();
        if (done) break;
        rest += value;
        const lines = rest.split('\n');
        rest = lines.pop();
        const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 8;
        for (const line of lines) {
          if (!line) continue;
          let entry;
          try { entry = JSON.parse(line); } catch { continue; }
          box.append(h('span', {class: entry.stream === 'stderr' ? 'stderr' : ''}, `${entry.displayName}: ${entry.text}\n`));
        }
        while (box.childNodes.length > MAX_LOG_LINES) box.firstChild.remove();
        if (atBottom) box.scrollTop = box.scrollHeight;
      }
    } catch (err) {
      if (err.name !== 'AbortError') box.append(h('span', {class: 'stderr'}, `\n(log stream ended: ${err.message})\n`));
    }
  }
}
