// Start a build by pasting a spec, YAML (as on disk) or JSON. The server parses
// and validates it; every problem it names is shown next to the line of its field.
import {api} from './api.js';
import {buildHref, clear, h} from './dom.js';

const EXAMPLE = `apiVersion: clusterforge.dev/v1alpha1
kind: Cluster
metadata:
  name: dev
spec:
  provider:
    type: kwok
  kubernetesVersion: "1.34"
  nodeGroups:
    - name: workers
      instanceType: m5.large
      desired: 2
`;

export function renderNewBuild(main) {
  const text = h('textarea', {id: 'spec', rows: 22, spellcheck: 'false', 'aria-describedby': 'spec-help spec-problems'});
  text.value = EXAMPLE;
  const problems = h('ul', {id: 'spec-problems', class: 'problems', 'aria-live': 'assertive'});
  const form = h('form', {class: 'card newbuild'},
    h('h1', {}, 'New build'),
    h('label', {for: 'spec'}, 'Cluster spec (YAML or JSON)'),
    h('p', {id: 'spec-help', class: 'muted'}, 'Paste a cluster spec, YAML or JSON (`clusterforge spec schema` prints its schema). The server checks it; each problem is listed with its field.'),
    text, problems, h('button', {type: 'submit'}, 'Start build'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clear(problems);
    // JSON is sent as JSON; anything else as YAML, which the server parses (bounded)
    let json = true;
    try { JSON.parse(text.value); } catch { json = false; }
    const headers = json ? {} : {'Content-Type': 'application/yaml'};
    try {
      const answer = await api('/api/v1/builds', {method: 'POST', body: text.value, headers});
      location.hash = buildHref(answer.id);
    } catch (err) {
      const list = err.problems && err.problems.length ? err.problems : [{field: err.field || 'spec', message: err.message}];
      for (const p of list) {
        problems.append(h('li', {'data-field': p.field || ''}, h('strong', {}, `${p.field || 'spec'}: `), p.message, fieldHint(text.value, p.field)));
      }
    }
  });
  main.append(form);
}

/** "line N" of the last key of a field path in the pasted text, to find it. */
function fieldHint(source, field) {
  if (!field) return '';
  const key = String(field).split(/[.[\]]/).filter((k) => k && !/^\d+$/.test(k)).pop();
  if (!key) return '';
  const line = source.split('\n').findIndex((l) => l.includes(`"${key}"`) || l.trimStart().replace(/^- /, '').startsWith(`${key}:`));
  return line >= 0 ? h('span', {class: 'muted'}, ` (line ${line + 1})`) : '';
}
