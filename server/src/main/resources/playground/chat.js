// The chat: an agent and a conversation, a turn streamed over /ws/chat, Stop, and the transcript with the turns
// that left the window greyed out. One socket per turn: closing it is how a turn is stopped (the sidecar cancels
// the turns of a socket that goes away).
import { api, chatSocketUrl, describe, ensureAuthorized } from './api.js';
import { WindowPanel } from './window-bar.js';
import { Stats } from './stats.js';

const $ = id => document.getElementById(id);
const STOP_POLLS = 25;
const STOP_POLL_MS = 200;

export class ChatView {
  constructor(refreshEngine) {
    this.refreshEngine = refreshEngine;
    this.conversationId = null;
    this.lastReplyId = null;
    this.socket = null;
    this.window = new WindowPanel();
    this.stats = new Stats();
    this.transcript = $('transcript');
    this.input = $('message-input');
    $('composer').addEventListener('submit', ev => { ev.preventDefault(); this.send(); });
    $('stop-button').addEventListener('click', () => this.stop());
    $('new-conversation').addEventListener('click', () => this.open(null));
    $('open-conversation').addEventListener('click', () => this.open($('conversation-input').value.trim() || null));
    $('conversation-input').addEventListener('keydown', ev => {
      if (ev.key === 'Enter') { ev.preventDefault(); $('open-conversation').click(); }
    });
    this.input.addEventListener('keydown', ev => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); this.send(); }
    });
    document.addEventListener('keydown', ev => {
      if (ev.key === 'Escape' && this.socket) { ev.preventDefault(); this.stop(); }
    });
  }

  async start() {
    await this.loadAgents();
    this.window.budget = await api('/playground/settings').catch(() => null);
  }

  async loadAgents() {
    const select = $('agent-select');
    const current = select.value;
    try {
      const { agents } = await api('/agents');
      select.replaceChildren(...agents.map(a => new Option(`${a.name} (${a.id})`, a.id)));
      if (agents.some(a => a.id === current)) select.value = current;
    } catch (e) {
      this.showError(describe(e));
    }
  }

  /** Shows a conversation (null: a new one from the next turn). */
  async open(id) {
    if (this.socket) this.stop();
    this.conversationId = id;
    this.lastReplyId = null;
    $('conversation-input').value = id ?? '';
    this.transcript.replaceChildren();
    this.hideError();
    this.window.clear();
    if (id) await this.refresh();
  }

  /** Re-reads the conversation: its transcript, window and summary, as the sidecar logged them. */
  async refresh() {
    const id = this.conversationId;
    try {
      const [info, page] = await Promise.all([
        api(`/conversations/${encodeURIComponent(id)}`),
        api(`/conversations/${encodeURIComponent(id)}/events?type=USER_MESSAGE,ASSISTANT_MESSAGE,SUMMARY_REFRESH&limit=1000`),
      ]);
      if (id !== this.conversationId) return;
      $('agent-select').value = info.agent_id;
      this.renderTranscript(page.events);
      await this.window.show(info);
    } catch (e) {
      this.showError(describe(e));
    }
  }

  renderTranscript(events) {
    this.lastReplyId = events.filter(e => e.type === 'ASSISTANT_MESSAGE').at(-1)?.id ?? null;
    const evicted = new Set(events.filter(e => e.type === 'SUMMARY_REFRESH')
      .flatMap(e => e.payload.evicted_event_ids ?? []));
    const turns = [];
    let turn = null;
    for (const e of events) {
      if (e.type === 'USER_MESSAGE') {
        turn = this.turnItem(evicted.has(e.id));
        turn.dataset.eventId = e.id;
        turn.append(message('user', e.payload.content ?? ''));
        turns.push(turn);
      } else if (e.type === 'ASSISTANT_MESSAGE') {
        if (!turn) { turn = this.turnItem(false); turns.push(turn); }
        const m = message('assistant', e.payload.content ?? '');
        if (e.payload.finish_reason === 'cancelled') m.append(note('stopped'));
        turn.append(m);
        turn = null;
      }
    }
    this.transcript.replaceChildren(...turns);
    this.transcript.lastElementChild?.scrollIntoView({ block: 'end' });
  }

  turnItem(evicted) {
    const li = document.createElement('li');
    li.className = evicted ? 'turn evicted' : 'turn';
    if (evicted) li.title = 'out of the window: only the summary carries it';
    return li;
  }

  async send() {
    const text = this.input.value.trim();
    const agent = $('agent-select').value;
    if (!text || this.socket || !agent) return;
    this.hideError();
    try {
      await ensureAuthorized();
    } catch (e) {
      this.showError(describe(e));
      return;
    }
    this.input.value = '';
    const turn = this.turnItem(false);
    turn.append(message('user', text));
    const reply = message('assistant', '');
    reply.classList.add('streaming');
    turn.append(reply);
    this.transcript.append(turn);
    turn.scrollIntoView({ block: 'end' });

    const frame = { agent_id: agent, user_message: text };
    if (this.conversationId) frame.conversation_id = this.conversationId;
    const socket = new WebSocket(chatSocketUrl());
    this.socket = socket;
    this.running(true);
    let finished = false;
    socket.onopen = () => { this.stats.begin(); socket.send(JSON.stringify(frame)); };
    socket.onmessage = ev => {
      const m = JSON.parse(ev.data);
      if (m.type === 'token') {
        if (!this.conversationId) this.setConversation(m.conversation_id);
        const span = document.createElement('span');
        span.className = 'tok';
        span.textContent = m.token;
        reply.querySelector('.text').append(span);
        this.stats.token();
      } else if (m.type === 'done') {
        finished = true;
        this.setConversation(m.conversation_id);
        this.stats.end(m.finish_reason);
        this.endTurn(reply, m.finish_reason === 'length' ? 'cut at max_new_tokens' : null);
        this.refresh();
      } else if (m.type === 'error') {
        finished = true;
        this.endTurn(reply, 'failed');
        this.showError(m.message);
        this.refreshEngine();
      }
    };
    socket.onclose = ev => {
      if (this.socket !== socket) return;
      if (!finished) {
        this.endTurn(reply, 'failed');
        this.showError(`The connection closed before the reply ended${ev.reason ? `: ${ev.reason}` : ''}.`);
      }
      this.socket = null;
      this.running(false);
    };
  }

  /** Stop: closing the socket cancels the turn on the sidecar, which logs what was streamed so far. */
  stop() {
    const socket = this.socket;
    if (!socket) return;
    this.socket = null;
    socket.close(1000, 'stopped');
    const reply = this.transcript.querySelector('.streaming');
    if (reply) this.endTurn(reply, 'stopped');
    this.stats.end('cancelled');
    this.running(false);
    if (this.conversationId) this.refreshOnceLogged(this.conversationId, this.lastReplyId);
  }

  /**
   * The socket is gone, so no `done` says when the cancelled reply is on disk: the page asks a few times, then
   * shows the conversation as logged (the reply so far, the window it left).
   */
  async refreshOnceLogged(id, previousReplyId) {
    for (let attempt = 0; attempt < STOP_POLLS && id === this.conversationId && !this.socket; attempt++) {
      await new Promise(resolve => setTimeout(resolve, STOP_POLL_MS));
      const page = await api(`/conversations/${encodeURIComponent(id)}/events?type=ASSISTANT_MESSAGE&limit=1`)
        .catch(() => null);
      if (page?.events.length && page.events[0].id !== previousReplyId) {
        if (id === this.conversationId && !this.socket) await this.refresh();
        return;
      }
    }
  }

  endTurn(reply, why) {
    reply.classList.remove('streaming');
    if (why) reply.append(note(why));
    if (this.socket) { this.socket.onclose = null; this.socket.close(); this.socket = null; }
    this.running(false);
  }

  setConversation(id) {
    this.conversationId = id;
    $('conversation-input').value = id;
  }

  running(on) {
    $('send-button').disabled = on;
    $('stop-button').disabled = !on;
    document.body.classList.toggle('turn-running', on);
  }

  showError(text) {
    const p = $('chat-error');
    p.textContent = text;
    p.hidden = false;
  }

  hideError() {
    $('chat-error').hidden = true;
  }
}

function message(role, text) {
  const div = document.createElement('div');
  div.className = `msg ${role}`;
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = role === 'user' ? 'You' : 'Assistant';
  const body = document.createElement('span');
  body.className = 'text';
  body.textContent = text;
  div.append(who, body);
  return div;
}

function note(text) {
  const n = document.createElement('em');
  n.className = 'note';
  n.textContent = ` — ${text}`;
  return n;
}
