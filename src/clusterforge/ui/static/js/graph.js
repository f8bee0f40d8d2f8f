// The build graph on a <canvas>: layout from the worker, drawn with culling
// and level of detail, so 20,000 nodes pan and zoom smoothly. Every node shows
// its phase as an icon *and* a colour; text appears as soon as it is legible.
import {duration, phaseOf} from './dom.js';

const COLORS = {
  pending: '#8b949e', running: '#2f81f7', ok: '#2ea043', failed: '#da3633', error: '#d29922', skipped: '#6e7681',
};
const GROUP_HEADER = 22;

export class GraphView {
  constructor(canvas, {onSelect, onToggleGroup}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d', {alpha: false});
    this.onSelect = onSelect;
    this.onToggleGroup = onToggleGroup;
    this.nodes = {};
    this.layout = null;
    this.k = 1; this.tx = 0; this.ty = 0;
    this.selected = -1;
    this.matches = new Set();
    this.frame = 0;
    this.fitted = false;
    this.bind();
    new ResizeObserver(() => this.resize()).observe(canvas.parentElement);
    this.resize();
  }

  resize() {
    const box = this.canvas.parentElement.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    this.width = Math.max(100, box.width); this.height = Math.max(100, box.height);
    this.canvas.width = Math.round(this.width * dpr); this.canvas.height = Math.round(this.height * dpr);
    this.canvas.style.width = `${this.width}px`; this.canvas.style.height = `${this.height}px`;
    this.dpr = dpr;
    this.request();
  }

  setData(nodes, layout) {
    const selectedId = this.selectedId();
    this.nodes = nodes;
    this.layout = layout;
    this.index = new Map(layout.ids.map((id, i) => [id, i]));
    this.selected = selectedId && this.index.has(selectedId) ? this.index.get(selectedId) : -1;
    this.canvas.dataset.nodes = String(layout.ids.length);
    this.fans = fansOf(layout);
    if (!this.fitted) { this.fit(); this.fitted = true; }
    this.request();
  }

  selectedId() { return this.layout && this.selected >= 0 ? this.layout.ids[this.selected] : null; }

  request() {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.draw(); });
  }

  fit() {
    const L = this.layout;
    if (!L || !L.ids.length) return;
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (let i = 0; i < L.ids.length; i++) {
      x0 = Math.min(x0, L.x[i]); y0 = Math.min(y0, L.y[i]);
      x1 = Math.max(x1, L.x[i] + L.W); y1 = Math.max(y1, L.y[i] + L.H);
    }
    y0 -= GROUP_HEADER + 8;
    const k = Math.min(2, Math.min((this.width - 40) / (x1 - x0), (this.height - 40) / (y1 - y0)));
    this.k = k;
    this.tx = (this.width - (x1 - x0) * k) / 2 - x0 * k;
    this.ty = (this.height - (y1 - y0) * k) / 2 - y0 * k;
    this.request();
  }

  zoomAt(factor, cx = this.width / 2, cy = this.height / 2) {
    const k = Math.min(4, Math.max(0.0005, this.k * factor));
    this.tx = cx - (cx - this.tx) * (k / this.k);
    this.ty = cy - (cy - this.ty) * (k / this.k);
    this.k = k;
    this.request();
  }

  panBy(dx, dy) { this.tx += dx; this.ty += dy; this.request(); }

  centerOn(i) {
    const L = this.layout;
    if (this.k < 0.6) this.k = 0.9;
    this.tx = this.width / 2 - (L.x[i] + L.W / 2) * this.k;
    this.ty = this.height / 2 - (L.y[i] + L.H / 2) * this.k;
    this.request();
  }

  select(i, {center = false} = {}) {
    this.selected = i;
    if (center && i >= 0) this.centerOn(i);
    this.request();
    if (this.onSelect) this.onSelect(i >= 0 ? this.layout.ids[i] : null);
  }

  /** Highlight nodes whose name contains `text`; returns their indices in layout order. */
  search(text) {
    this.matches = new Set();
    const needle = text.trim().toLowerCase();
    const L = this.layout;
    if (needle && L) {
      for (let i = 0; i < L.ids.length; i++) {
        const n = this.nodes[L.ids[i]];
        if (n && n.displayName.toLowerCase().includes(needle)) this.matches.add(i);
      }
    }
    this.request();
    return [...this.matches];
  }

  hit(px, py) {
    const L = this.layout;
    if (!L) return {node: -1, group: null};
    const gx = (px - this.tx) / this.k, gy = (py - this.ty) / this.k;
    for (const g of L.groups) {
      if (gx >= g.x0 - 10 && gx <= g.x1 + 10 && gy >= g.y0 - GROUP_HEADER - 10 && gy <= g.y0 - 8) return {node: -1, group: g.id};
    }
    for (let i = 0; i < L.ids.length; i++) {
      if (gx >= L.x[i] && gx <= L.x[i] + L.W && gy >= L.y[i] && gy <= L.y[i] + L.H) return {node: i, group: null};
    }
    return {node: -1, group: null};
  }

  bind() {
    const c = this.canvas;
    let drag = null;
    c.addEventListener('wheel', (e) => {
      e.preventDefault();
      const r = c.getBoundingClientRect();
      this.zoomAt(Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top);
    }, {passive: false});
    c.addEventListener('pointerdown', (e) => { drag = {x: e.clientX, y: e.clientY, moved: 0}; c.setPointerCapture(e.pointerId); });
    c.addEventListener('pointermove', (e) => {
      if (!drag) return;
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      drag.moved += Math.abs(dx) + Math.abs(dy); drag.x = e.clientX; drag.y = e.clientY;
      this.panBy(dx, dy);
    });
    c.addEventListener('pointerup', (e) => {
      const wasClick = drag && drag.moved < 4;
      drag = null;
      if (!wasClick) return;
      const r = c.getBoundingClientRect();
      const {node, group} = this.hit(e.clientX - r.left, e.clientY - r.top);
      if (group && this.onToggleGroup) this.onToggleGroup(group);
      else this.select(node);
    });
    c.addEventListener('keydown', (e) => this.key(e));
  }

  key(e) {
    const L = this.layout;
    if (!L) return;
    const step = 60;
    const moves = {ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1]};
    if (e.key in moves && (e.shiftKey || this.selected < 0)) { const [dx, dy] = moves[e.key]; this.panBy(-dx * step, -dy * step); }
    else if (e.key in moves) this.select(this.neighbour(...moves[e.key]), {center: true});
    else if (e.key === '+' || e.key === '=') this.zoomAt(1.25);
    else if (e.key === '-') this.zoomAt(0.8);
    else if (e.key === '0' || e.key === 'f') this.fit();
    else if (e.key === 'Escape') this.select(-1);
    else if (e.key === 'Home' && L.ids.length) this.select(0, {center: true});
    else return;
    e.preventDefault();
  }

  /** The nearest node in a direction from the selected one (for the arrow keys). */
  neighbour(dx, dy) {
    const L = this.layout, s = this.selected;
    let best = s, bestScore = Infinity;
    for (let i = 0; i < L.ids.length; i++) {
      if (i === s) continue;
      const ex = L.x[i] - L.x[s], ey = L.y[i] - L.y[s];
      const along = ex * dx + ey * dy;
      if (along <= 0) continue;
      const score = along + 3 * Math.abs(ex * dy + ey * dx);
      if (score < bestScore) { bestScore = score; best = i; }
    }
    return best;
  }

  /** Far out, nodes are coloured blocks: one path per phase colour, one fill each. */
  drawBlocks(vx0, vy0, vx1, vy1) {
    const ctx = this.ctx, L = this.layout, W = L.W, H = L.H;
    const paths = {};
    for (let i = 0; i < L.ids.length; i++) {
      const x = L.x[i], y = L.y[i];
      if (x + W < vx0 || x > vx1 || y + H < vy0 || y > vy1) continue;
      const n = this.nodes[L.ids[i]];
      if (!n) continue;
      const cls = phaseOf(n.phase)[1];
      (paths[cls] ||= new Path2D()).rect(x, y, W, H);
    }
    for (const [cls, path] of Object.entries(paths)) {
      ctx.fillStyle = COLORS[cls];
      ctx.fill(path);
    }
    if (this.selected >= 0) {
      ctx.strokeStyle = '#f0f6fc';
      ctx.lineWidth = 3 / this.k;
      ctx.strokeRect(L.x[this.selected], L.y[this.selected], W, H);
    }
  }

  draw() {
    const t0 = performance.now();
    const ctx = this.ctx, L = this.layout;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.fillStyle = '#0d1117';
    ctx.fillRect(0, 0, this.width, this.height);
    if (!L) return;
    const {k, tx, ty} = this;
    ctx.setTransform(this.dpr * k, 0, 0, this.dpr * k, this.dpr * tx, this.dpr * ty);
    const vx0 = -tx / k, vy0 = -ty / k, vx1 = (this.width - tx) / k, vy1 = (this.height - ty) / k;
    const W = L.W, H = L.H;
    // stage boxes
    ctx.lineWidth = 1.5 / k;
    ctx.font = '600 13px system-ui, sans-serif';
    for (const g of L.groups) {
      if (g.x1 < vx0 || g.x0 > vx1 || g.y1 < vy0 || g.y0 - GROUP_HEADER > vy1) continue;
      ctx.fillStyle = '#161b22'; ctx.strokeStyle = '#30363d';
      ctx.fillRect(g.x0 - 10, g.y0 - GROUP_HEADER - 10, g.x1 - g.x0 + 20, g.y1 - g.y0 + GROUP_HEADER + 20);
      ctx.strokeRect(g.x0 - 10, g.y0 - GROUP_HEADER - 10, g.x1 - g.x0 + 20, g.y1 - g.y0 + GROUP_HEADER + 20);
      if (k > 0.25) {
        const n = this.nodes[g.id];
        ctx.fillStyle = '#c9d1d9';
        ctx.fillText(`${g.collapsed ? '▸' : '▾'} stage ${n ? n.displayName : ''}${g.collapsed ? ' (collapsed)' : ''}`, g.x0 - 4, g.y0 - 12);
      }
    }
    // edges: far out, a wide fan is one translucent wedge instead of thousands of
    // lines (software raster of those took seconds); near, every edge in view
    const far = k * W < 12;
    if (far && this.fans.wedges.length) {
      ctx.beginPath();
      for (const [ax, ay, bx0, bx1, by] of this.fans.wedges) {
        ctx.moveTo(ax, ay); ctx.lineTo(bx0, by); ctx.lineTo(bx1, by); ctx.closePath();
      }
      ctx.fillStyle = 'rgba(72, 79, 88, 0.55)';
      ctx.fill();
    }
    ctx.beginPath();
    ctx.strokeStyle = '#484f58';
    ctx.lineWidth = 1 / k;
    for (let e = 0; e < L.from.length; e++) {
      if (far && this.fans.bundled[e]) continue;
      const a = L.from[e], b = L.to[e];
      const ax = L.x[a] + W / 2, ay = L.y[a] + H, bx = L.x[b] + W / 2, by = L.y[b];
      if (!crosses(ax, ay, bx, by, vx0, vy0, vx1, vy1)) continue;
      ctx.moveTo(ax, ay); ctx.lineTo(bx, by);
    }
    ctx.stroke();
    // nodes
    const text = k * 13 >= 7;
    const small = k * H < 4;
    ctx.font = '13px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    if (small) this.drawBlocks(vx0, vy0, vx1, vy1);
    for (let i = 0; !small && i < L.ids.length; i++) {
      const x = L.x[i], y = L.y[i];
      if (x + W < vx0 || x > vx1 || y + H < vy0 || y > vy1) continue;
      const n = this.nodes[L.ids[i]];
      if (!n) continue;
      const [icon, cls] = phaseOf(n.phase);
      const color = COLORS[cls];
      ctx.fillStyle = '#0d1117';
      ctx.fillRect(x, y, W, H);
      ctx.fillStyle = color;
      ctx.fillRect(x, y, 30, H);
      ctx.strokeStyle = i === this.selected ? '#f0f6fc' : this.matches.has(i) ? '#e3b341' : color;
      ctx.lineWidth = (i === this.selected || this.matches.has(i) ? 3 : 1) / k;
      ctx.strokeRect(x, y, W, H);
      if (!text) continue;
      ctx.fillStyle = '#0d1117';
      ctx.fillText(icon, x + 8, y + H / 2);
      ctx.fillStyle = '#e6edf3';
      ctx.fillText(clip(ctx, n.displayName, W - 40), x + 36, y + 12);
      ctx.fillStyle = '#8b949e';
      ctx.font = '11px system-ui, sans-serif';
      const attempts = n.type === 'Retry' ? ` · ${(n.children || []).length} attempts` : '';
      const note = n.phase === 'Skipped' || n.phase === 'Omitted' ? ` · ${n.message || ''}` : '';
      ctx.fillText(clip(ctx, `${n.phase}${n.startedAt ? ` · ${duration(n.startedAt, n.finishedAt)}` : ''}${attempts}${note}`, W - 40), x + 36, y + 28);
      ctx.font = '13px system-ui, sans-serif';
    }
    const ms = performance.now() - t0;
    performance.measure('cf-draw', {start: t0, duration: ms});
    if (!this.firstDrawn && L.ids.length) {
      this.firstDrawn = true;
      performance.mark('cf-graph-drawn', {detail: {nodes: L.ids.length}});
      this.canvas.dataset.drawn = String(L.ids.length);
    }
  }
}

const FAN = 16;

/**
 * The wide fans of a layout: every edge of a node with FAN or more edges out
 * (or in) is "bundled", and each such node gets one wedge from its anchor to
 * the span of the nodes at the other end.
 */
function fansOf(L) {
  const n = L.ids.length, outs = new Int32Array(n), ins = new Int32Array(n);
  for (let e = 0; e < L.from.length; e++) { outs[L.from[e]]++; ins[L.to[e]]++; }
  const bundled = new Uint8Array(L.from.length);
  const spans = new Map(); // key: node*2 (+1 for fan-in) → [x0, x1, y]
  for (let e = 0; e < L.from.length; e++) {
    const a = L.from[e], b = L.to[e];
    if (outs[a] >= FAN) grow(spans, a * 2, L.x[b] + L.W / 2, L.y[b], Math.min);
    else if (ins[b] >= FAN) grow(spans, b * 2 + 1, L.x[a] + L.W / 2, L.y[a] + L.H, Math.max);
    else continue;
    bundled[e] = 1;
  }
  const wedges = [];
  for (const [key, [x0, x1, y]] of spans) {
    const i = key >> 1;
    wedges.push(key & 1 ? [L.x[i] + L.W / 2, L.y[i], x0, x1, y] : [L.x[i] + L.W / 2, L.y[i] + L.H, x0, x1, y]);
  }
  return {bundled, wedges};
}

function grow(spans, key, x, y, pick) {
  const span = spans.get(key);
  if (!span) { spans.set(key, [x, x, y]); return; }
  span[0] = Math.min(span[0], x); span[1] = Math.max(span[1], x); span[2] = pick(span[2], y);
}

/**
 * Whether the segment a→b passes through the view (Liang–Barsky): a fan-out's
 * long edges all have bounding boxes that span the view, but few cross it.
 */
function crosses(ax, ay, bx, by, x0, y0, x1, y1) {
  if ((ax < x0 && bx < x0) || (ax > x1 && bx > x1) || (ay < y0 && by < y0) || (ay > y1 && by > y1)) return false;
  const dx = bx - ax, dy = by - ay;
  let t0 = 0, t1 = 1;
  const edge = (p, q) => {
    if (p === 0) return q >= 0;
    const r = q / p;
    if (p < 0) { if (r > t1) return false; if (r > t0) t0 = r; } else { if (r < t0) return false; if (r < t1) t1 = r; }
    return true;
  };
  return edge(-dx, ax - x0) && edge(dx, x1 - ax) && edge(-dy, ay - y0) && edge(dy, y1 - ay);
}

function clip(ctx, text, width) {
  if (ctx.measureText(text).width <= width) return text;
  let lo = 0, hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ctx.measureText(`${text.slice(0, mid)}…`).width <= width) lo = mid; else hi = mid - 1;
  }
  return `${text.slice(0, lo)}…`;
}
