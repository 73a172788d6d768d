// The prompt budget of the open conversation as a bar: sink | summary | recent | free, from the conversation's
// `window` (as logged with its newest reply) against the sidecar's budget (sink + summary_size + recent_size),
// and the current summary with its summary_ref checked against the content.
import { api, describe } from './api.js';
import { sha256Hex } from './sha256.js';

const $ = id => document.getElementById(id);
const PARTS = ['sink', 'summary', 'recent', 'free'];

export class WindowPanel {
  constructor() {
    this.budget = null;
  }

  clear() {
    this.draw({ sink: 0, summary: 0, recent: 0, free: 0 }, 'prompt budget: no conversation yet');
    $('window-evicted').textContent = '0';
    $('summary-ref').textContent = 'no summary yet (written at the first eviction)';
    $('summary-ref').className = 'ref';
    $('summary-text').textContent = '';
  }

  async show(info) {
    const w = info.window;
    const tokens = { sink: w.sink_tokens, summary: w.summary_tokens, recent: w.recent_tokens };
    const total = w.sink_tokens + (this.budget ? this.budget.summary_size + this.budget.recent_size
      : w.summary_tokens + w.recent_tokens);
    tokens.free = Math.max(0, total - tokens.sink - tokens.summary - tokens.recent);
    this.draw(tokens, `prompt budget of ${total} tokens: ${PARTS.map(p => `${p} ${tokens[p]}`).join(', ')}`);
    $('window-evicted').textContent = String(w.evicted_turns);
    await this.summary(info);
  }

  draw(tokens, label) {
    const bar = $('window-bar');
    bar.setAttribute('aria-label', label);
    const total = PARTS.reduce((n, p) => n + tokens[p], 0) || 1;
    const legend = [];
    for (const part of PARTS) {
      const seg = bar.querySelector(`[data-part="${part}"]`);
      seg.dataset.tokens = String(tokens[part]);
      seg.style.width = `${(100 * tokens[part]) / total}%`;
      seg.title = `${part}: ${tokens[part]} tokens`;
      const li = document.createElement('li');
      li.className = part;
      li.textContent = `${part} ${tokens[part]}`;
      legend.push(li);
    }
    $('window-legend').replaceChildren(...legend);
  }

  async summary(info) {
    const ref = $('summary-ref');
    const text = $('summary-text');
    if (!info.summary_ref) {
      ref.textContent = 'no summary yet (written at the first eviction)';
      ref.className = 'ref';
      text.textContent = '';
      return;
    }
    try {
      const s = await api(`/conversations/${encodeURIComponent(info.conversation_id)}/summary`);
      text.textContent = s.content;
      const actual = await sha256Hex(s.content);
      const ok = actual === s.summary_ref && s.summary_ref === info.summary_ref;
      ref.textContent = ok ? `summary_ref ${s.summary_ref.slice(0, 12)}… matches its content`
        : `summary_ref ${s.summary_ref.slice(0, 12)}… does NOT match its content (sha256 ${actual.slice(0, 12)}…)`;
      ref.className = ok ? 'ref ok' : 'ref bad';
    } catch (e) {
      ref.textContent = describe(e);
      ref.className = 'ref bad';
    }
  }
}
