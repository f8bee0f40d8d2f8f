// The build's actions, each through the existing API: retry, stop, re-run one
// stage, tear the cluster down (after typing its name). Signed-out readers of
// a --public-reads server see the buttons disabled, with the reason.
import {api} from './api.js';
import {buildHref, h, toast} from './dom.js';

const STAGES = ['preflight', 'core', 'addons', 'validation'];
const DONE = new Set(['Succeeded', 'Failed', 'Error']);

async function act(label, path, options, reload) {
  try {
    const answer = await api(path, options);
    toast(`${label}: accepted`);
    reload(answer);
  } catch (err) {
    toast(`${label} refused: ${err.message}`, 'error');
  }
}

function confirmTeardown(cluster, onConfirm) {
  const input = h('input', {id: 'confirm-name', 'aria-describedby': 'confirm-help', autocomplete: 'off'});
  const go = h('button', {type: 'submit', class: 'danger', disabled: true}, `Tear down ${cluster}`);
  const dialog = h('dialog', {class: 'confirm', 'aria-labelledby': 'confirm-title'},
    h('form', {method: 'dialog'},
      h('h2', {id: 'confirm-title'}, `Tear down cluster “${cluster}”?`),
      h('p', {id: 'confirm-help'}, 'This deletes the cluster and everything on it. Type the cluster’s name to confirm.'),
      h('label', {for: 'confirm-name'}, 'Cluster name'), input,
      h('div', {class: 'bar'}, h('button', {type: 'button', onclick: () => dialog.close()}, 'Cancel'), go)));
  input.addEventListener('input', () => { go.disabled = input.value !== cluster; });
  dialog.addEventListener('submit', (e) => {
    e.preventDefault();
    if (input.value !== cluster) return;
    dialog.close();
    onConfirm();
  });
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  input.focus();
}

export function actionBar(el, {buildId, doc, session, reload}) {
  const phase = doc.status.phase;
  const labels = doc.metadata.labels || {};
  const cluster = labels['clusterforge.dev/cluster'];
  const id = encodeURIComponent(buildId);
  const canAct = session.authenticated;
  // redrawn only when what it offers changes, so a picked stage or focus survives
  // the build's updates
  const key = `${phase}|${canAct}|${cluster}`;
  if (el.dataset.key === key) return;
  el.dataset.key = key;
  const why = canAct ? null : 'Sign in to act on builds';
  const button = (label, handler, {disabled = false, cls = ''} = {}) =>
    h('button', {type: 'button', class: cls, disabled: !canAct || disabled, title: why, onclick: handler}, label);
  const items = [
    button('Retry', () => act('Retry', `/api/v1/builds/${id}/retry`, {method: 'POST'}, reload), {disabled: !DONE.has(phase) || phase === 'Succeeded'}),
    button('Stop', () => act('Stop', `/api/v1/builds/${id}/stop`, {method: 'POST'}, reload), {disabled: DONE.has(phase)}),
  ];
  if (cluster) {
    // the bar is redrawn whenever the build changes: keep the stage the user picked
    const before = el.querySelector('select');
    const stage = h('select', {'aria-label': 'Stage to re-run', disabled: !canAct}, STAGES.map((s) => h('option', {value: s}, s)));
    if (before) stage.value = before.value;
    items.push(h('span', {class: 'rerun'}, stage, button('Re-run stage', () =>
      act(`Re-run ${stage.value}`, `/api/v1/clusters/${encodeURIComponent(cluster)}/stages/${stage.value}`, {method: 'POST'}, (answer) => {
        location.hash = buildHref(answer.id);
      }))));
    items.push(button('Tear down…', () => confirmTeardown(cluster, () =>
      act(`Tear down ${cluster}`, `/api/v1/clusters/${encodeURIComponent(cluster)}`, {method: 'DELETE'}, (answer) => { location.hash = buildHref(answer.id); })), {cls: 'danger'}));
  }
  if (!canAct) items.push(h('a', {href: `#/login/${encodeURIComponent(location.hash)}`}, 'Sign in to act'));
  el.replaceChildren(...items);
}
