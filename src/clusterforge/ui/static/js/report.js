// The validation report: one row per DETIK sentence (or check), with the
// JUnit/TAP/summary files to download.
import {api} from './api.js';
import {clear, h, phaseBadge} from './dom.js';

export async function renderReport(el, buildId) {
  let summary;
  try {
    summary = await api(`/api/v1/builds/${encodeURIComponent(buildId)}/reports/summary.json`);
  } catch (err) {
    clear(el);
    if (err.status !== 404) el.append(h('p', {class: 'error'}, `validation report: ${err.message}`));
    return false;
  }
  const base = `/api/v1/builds/${encodeURIComponent(buildId)}/reports/`;
  const rows = [];
  for (const check of summary.checks || []) {
    const sentences = check.sentences || [];
    if (!sentences.length) rows.push({name: check.name, ok: check.ok, attempts: '', message: check.message});
    for (const s of sentences) rows.push({name: s.sentence, ok: s.ok, attempts: s.attempts ?? '', message: s.message});
  }
  clear(el).append(
    h('h2', {}, `Validation: ${summary.passed} passed, ${summary.failed} failed`),
    h('p', {class: 'downloads'}, 'Download: ',
      h('a', {href: `${base}junit.xml`, download: `${buildId}-junit.xml`}, 'JUnit XML'), ' · ',
      h('a', {href: `${base}results.tap`, download: `${buildId}-results.tap`}, 'TAP'), ' · ',
      h('a', {href: `${base}summary.json`, download: `${buildId}-summary.json`}, 'summary (JSON)')),
    h('table', {class: 'grid report'},
      h('caption', {}, 'Validation sentences and checks'),
      h('thead', {}, h('tr', {}, ['Sentence / check', 'Result', 'Attempts', 'Message'].map((t) => h('th', {scope: 'col'}, t)))),
      h('tbody', {}, rows.map((r) => h('tr', {class: r.ok ? '' : 'failing-row'},
        h('td', {}, r.name), h('td', {}, phaseBadge(r.ok ? 'Succeeded' : 'Failed', r.ok ? 'passed' : 'failed')),
        h('td', {}, String(r.attempts)), h('td', {}, r.message || ''))))),
  );
  return true;
}
