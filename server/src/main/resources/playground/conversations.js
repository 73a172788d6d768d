// Conversations: filter by id and agent, turns, last activity (the newest event's time), open in the chat,
// archive.
import { api, describe } from './api.js';

const $ = id => document.getElementById(id);
// last activity costs one small request per row: only the first rows that match are shown
const MAX_ROWS = 50;

export class ConversationsView {
  constructor(openInChat) {
    this.openInChat = openInChat;
    this.all = [];
    $('conversations-refresh').addEventListener('click', () => this.shown());
    $('conversation-filter-id').addEventListener('input', () => this.render());
    $('conversation-filter-agent').addEventListener('change', () => this.render());
  }

  async shown() {
    try {
      this.all = (await api('/conversations')).conversations;
      const agents = [...new Set(this.all.map(c => c.agent_id))].sort();
      const select = $('conversation-filter-agent');
      const current = select.value;
      select.replaceChildren(new Option('any', ''), ...agents.map(a => new Option(a, a)));
      select.value = agents.includes(current) ? current : '';
      $('conversations-error').hidden = true;
      this.render();
    } catch (e) {
      this.error(describe(e));
    }
  }

  render() {
    const idPart = $('conversation-filter-id').value.trim().toLowerCase();
    const agent = $('conversation-filter-agent').value;
    const rows = this.all
      .filter(c => c.conversation_id.toLowerCase().includes(idPart) && (!agent || c.agent_id === agent))
      .slice(0, MAX_ROWS)
      .map(c => this.row(c));
    $('conversations-rows').replaceChildren(...rows);
  }

  row(c) {
    const tr = document.createElement('tr');
    tr.dataset.conversationId = c.conversation_id;
    const last = cell('…');
    tr.append(cell(c.conversation_id), cell(c.agent_id), cell(String(c.turns)), last);
    const actions = document.createElement('td');
    actions.append(button('Open', `Open ${c.conversation_id} in the chat`, () => this.openInChat(c.conversation_id)),
      button('Archive', `Archive ${c.conversation_id}`, () => this.archive(c.conversation_id)));
    tr.append(actions);
    api(`/conversations/${encodeURIComponent(c.conversation_id)}/events?limit=1`)
      .then(p => { last.textContent = p.events.length ? new Date(p.events[0].timestamp).toLocaleString() : '–'; })
      .catch(() => { last.textContent = '?'; });
    return tr;
  }

  async archive(id) {
    if (!confirm(`Archive conversation ${id}? It leaves the listing; its log is kept in the archive.`)) return;
    try {
      await api(`/conversations/${encodeURIComponent(id)}`, { method: 'DELETE' });
      await this.shown();
    } catch (e) {
      this.error(describe(e));
    }
  }

  error(text) {
    $('conversations-error').textContent = text;
    $('conversations-error').hidden = false;
  }
}

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

function button(text, label, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  b.setAttribute('aria-label', label);
  b.addEventListener('click', onClick);
  return b;
}
