// Live numbers of the turn under way (time to first token, tokens/s) and a bar chart of the recent turns' rates,
// measured in the browser: what a person at this page actually waits for.

const $ = id => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';
const KEEP = 20;

export class Stats {
  constructor() {
    this.history = [];
    this.turn = null;
  }

  begin() {
    this.turn = { sent: performance.now(), first: null, last: null, tokens: 0 };
    for (const id of ['stat-ttft', 'stat-rate', 'stat-tokens']) $(id).textContent = '…';
  }

  token() {
    const t = this.turn;
    if (!t) return;
    const now = performance.now();
    t.first ??= now;
    t.last = now;
    t.tokens++;
    this.show(t);
  }

  end() {
    const t = this.turn;
    if (!t) return;
    this.turn = null;
    this.show(t);
    if (t.tokens > 0) {
      this.history.push(rate(t));
      if (this.history.length > KEEP) this.history.shift();
      this.chart();
    }
  }

  show(t) {
    $('stat-ttft').textContent = t.first === null ? '–' : `${Math.round(t.first - t.sent)} ms`;
    $('stat-rate').textContent = t.tokens ? rate(t).toFixed(1) : '–';
    $('stat-tokens').textContent = String(t.tokens);
  }

  chart() {
    const svg = $('stats-chart');
    const max = Math.max(...this.history, 1);
    const width = 200 / KEEP;
    svg.replaceChildren(...this.history.map((r, i) => {
      const bar = document.createElementNS(SVG, 'rect');
      const h = Math.max(1, (56 * r) / max);
      bar.setAttribute('x', String(i * width + 1));
      bar.setAttribute('y', String(58 - h));
      bar.setAttribute('width', String(width - 2));
      bar.setAttribute('height', String(h));
      bar.setAttribute('class', 'bar');
      const title = document.createElementNS(SVG, 'title');
      title.textContent = `${r.toFixed(1)} tokens/s`;
      bar.append(title);
      return bar;
    }));
  }
}

/** Tokens per second after the first token (the first one's wait is the time to first token). */
function rate(t) {
  const span = (t.last - t.first) / 1000;
  return t.tokens > 1 && span > 0 ? (t.tokens - 1) / span : t.tokens / Math.max((t.last - t.sent) / 1000, 0.001);
}
