// Opened at a build's URL, the page has asked for the build's document before
// its modules loaded (early.js), so a big workflow's answer — the slowest part
// of a first render — overlaps loading the modules and checking the session.
// Here that answer is read the way every API answer is (api.js's errors).
import {readAnswer} from './api.js';

const early = new Map();

const asked = self.clusterforgeEarly;
if (asked) {
  delete self.clusterforgeEarly;
  const answer = asked.answer.then(readAnswer).then((doc) => {
    performance.measure('cf-doc-fetch', {start: asked.asked, end: performance.now()});
    return doc;
  });
  answer.catch(() => {}); // a refusal is handled by whoever takes it
  early.set(asked.id, answer);
}

/** The build document asked for at start, once; null if none was. */
export function takeEarly(id) {
  const answer = early.get(id) || null;
  early.delete(id);
  return answer;
}
