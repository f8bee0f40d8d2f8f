// Sign in: the token goes once to POST /api/v1/session in a request body and
// comes back as an HttpOnly cookie; the page never stores it.
import {login} from './api.js';
import {h} from './dom.js';

export function renderLogin(main, done) {
  const input = h('input', {id: 'token', name: 'token', type: 'password', autocomplete: 'current-password', required: true, 'aria-describedby': 'token-help'});
  const problem = h('p', {class: 'field-error', id: 'token-error', role: 'alert'});
  const form = h('form', {class: 'card login', 'aria-labelledby': 'login-title'},
    h('h1', {id: 'login-title'}, 'Sign in'),
    h('label', {for: 'token'}, 'API token'),
    input,
    h('p', {id: 'token-help', class: 'muted'}, "A token from the server's token file (clusterforge serve prints where it is)."),
    problem,
    h('button', {type: 'submit'}, 'Sign in'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    problem.textContent = '';
    try {
      await login(input.value);
      input.value = '';
      done();
    } catch (err) {
      problem.textContent = err.message;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  });
  main.append(form);
  input.focus();
}
