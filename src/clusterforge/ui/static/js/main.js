// The page's entry: session, hash routes, the header. Each route renders into
// <main> and returns a cleanup function that closes its live streams.
import './prefetch.js';
import {canRead, loadSession, logout, session} from './api.js';
import {clear, h, toast} from './dom.js';
import {renderLogin} from './login.js';
import {renderFleet} from './fleet.js';
import {renderBuilds} from './builds.js';
import {renderBuild} from './build.js';
import {renderNewBuild} from './newbuild.js';

const main = document.getElementById('main');
let cleanup = null;

function route() {
  const hash = location.hash || '#/fleet';
  const parts = hash.slice(2).split('/').map((part) => {
    try { return decodeURIComponent(part); } catch { return part; }
  });
  return {page: parts[0] || 'fleet', arg: parts[1] || null};
}

function renderWho() {
  const who = clear(document.getElementById('who'));
  if (session.authenticated) {
    who.append(h('span', {}, 'signed in '), h('button', {type: 'button', class: 'link', onclick: async () => {
      await logout();
      toast('Signed out');
      show();
    }}, 'Sign out'));
  } else {
    who.append(h('a', {href: '#/login'}, 'Sign in'));
  }
}

export async function show() {
  if (cleanup) { cleanup(); cleanup = null; }
  clear(main);
  try {
    await loadSession();
  } catch (err) {
    main.append(h('p', {class: 'error'}, `The server did not answer: ${err.message}`));
    return;
  }
  renderWho();
  let {page, arg} = route();
  for (const link of document.querySelectorAll('nav a')) {
    link.toggleAttribute('aria-current', link.dataset.page === page);
  }
  let back = page === 'login' ? arg : null;
  if ((page !== 'login' && !canRead()) || (page === 'new' && !session.authenticated)) {
    back = location.hash;
    page = 'login';
  }
  const pages = {
    login: () => renderLogin(main, () => {
      const target = back && back.startsWith('#/') && !back.startsWith('#/login') ? back : '#/fleet';
      if (location.hash === target) show(); else location.hash = target;
    }),
    fleet: () => renderFleet(main),
    builds: () => (arg ? renderBuild(main, arg) : renderBuilds(main)),
    new: () => renderNewBuild(main),
  };
  cleanup = (pages[page] || pages.fleet)() || null;
  document.title = `clusterforge — ${page}${arg ? ` ${arg}` : ''}`;
}

window.addEventListener('hashchange', show);
show();
