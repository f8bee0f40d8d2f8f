// Server-sent events that survive the server going away: EventSource itself
// reconnects (sending Last-Event-ID) while the server answers; when it gave up
// (the connection was refused, e.g. during a restart) we open a new one after
// the last id we saw.
export class LiveStream {
  constructor(url, handlers, {onState, after = null} = {}) {
    this.url = url;
    this.handlers = handlers;
    this.onState = onState || (() => {});
    this.lastId = after;
    this.closed = false;
    this.timer = 0;
    this.open();
  }

  open() {
    if (this.closed) return;
    let url = this.url;
    if (this.lastId !== null) url += (url.includes('?') ? '&' : '?') + `after=${encodeURIComponent(this.lastId)}`;
    const source = new EventSource(url, {withCredentials: true});
    this.source = source;
    source.onopen = () => this.onState('live');
    source.onerror = () => {
      if (this.closed) return;
      this.onState('reconnecting');
      if (source.readyState === EventSource.CLOSED) {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.open(), 1500);
      }
    };
    for (const [name, handler] of Object.entries(this.handlers)) {
      source.addEventListener(name, (event) => {
        if (event.lastEventId) this.lastId = event.lastEventId;
        handler(JSON.parse(event.data), event);
      });
    }
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.source) this.source.close();
    this.onState('');
  }
}

/** Show the state of the page's live feed in the header. */
export function liveIndicator(state) {
  const el = document.getElementById('live');
  if (!el) return;
  el.textContent = state === 'live' ? '● live' : state === 'reconnecting' ? '○ reconnecting…' : state === 'done' ? '■ finished' : '';
  el.dataset.state = state;
}

/** Call fn at most once per `ms`, trailing. */
export function debounce(fn, ms) {
  let timer = 0;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}
