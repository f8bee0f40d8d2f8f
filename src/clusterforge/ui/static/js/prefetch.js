// Opened at a build's URL, the page asks for the build's document at once —
// while its other modules evaluate and the session is checked — so a big
// workflow's answer (the slowest part of a first render) overlaps the rest.
import {api} from './api.js';

const early = new Map();

const match = /^#\/builds\/([^/?]+)$/.exec(location.hash);
if (match) {
  const id = decodeURIComponent(match[1]);
  const asked = performance.now();
  const answer = api(`/api/v1/builds/${encodeURIComponent(id)}`).then((doc) => {
    performance.measure('cf-doc-fetch', {start: asked, end: performance.now()});
    return doc;
  });
  answer.catch(() => {}); // a refusal is handled by whoever takes it
  early.set(id, answer);
}

/** The build document asked for at start, once; null if none was. */
export function takeEarly(id) {
  const answer = early.get(id) || null;
  early.delete(id);
  return answer;
}
