// A classic script, run while index.html is still being parsed. On a build's
// URL it asks for the build's document at once: an ES module runs only after
// its whole import graph has arrived, so a fetch started from a module would
// wait for every module first. prefetch.js takes the answer over.
(function askEarly() {
  const match = /^#\/builds\/([^/?]+)$/.exec(location.hash);
  if (!match) return;
  let id;
  try { id = decodeURIComponent(match[1]); } catch { return; }
  const asked = performance.now();
  const answer = fetch(`/api/v1/builds/${encodeURIComponent(id)}`,
    {credentials: 'same-origin', headers: {Accept: 'application/json'}});
  answer.catch(() => {}); // a failure is handled by whoever takes it
  self.clusterforgeEarly = {id, asked, answer};
})();
