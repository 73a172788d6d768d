// The events timeline, newest first, filtered by type, visibility and conversation; pages back with `before`.
import { api, describe } from './api.js';

const $ = id => document.getElementById(id);
const PAGE = 100;

export class EventsView {
  constructor() {
    this.oldest = null;
    for (const id of ['event-type', 'event-visibility']) $(id).addEventListener('change', () => this.shown());
    $('events-refresh').addEventListener('click', () => this.shown());
    $('event-conversation').addEventListener('keydown', ev => {
      if (ev.key === 'Enter') { ev.preventDefault(); this.shown(); }
    });
    $('events-older').addEventListener('click', () => this.load(true));
  }

  shown() {
    return this.load(false);
  }

  async load(older) {
    const params = new URLSearchParams({ limit: String(PAGE) });
    if ($('event-type').value) params.set('type', $('event-type').value);
    if ($('event-visibility').value) params.set('visibility', $('event-visibility').value);
    if (older && this.oldest) params.set('before', this.oldest);
    const conversation = $('event-conversation').value.trim();
    const path = conversation ? `/conversations/${encodeURIComponent(conversation)}/events` : '/events';
    try {
      const page = await api(`${path}?${params}`);
      const items = page.events.slice().reverse().map(item);
      if (older) $('events-list').append(...items); else $('events-list').replaceChildren(...items);
      if (page.events.length) this.oldest = page.events[0].id;
      $('events-older').hidden = !page.has_more;
      $('events-error').hidden = true;
    } catch (e) {
      $('events-error').textContent = describe(e);
      $('events-error').hidden = false;
    }
  }
}

function item(e) {
  const li = document.createElement('li');
  li.className = `event ${e.type.toLowerCase()} ${e.visibility}`;
  li.dataset.type = e.type;
  const head = document.createElement('div');
  head.className = 'event-head';
  head.textContent = `${new Date(e.timestamp).toLocaleTimeString()} · ${e.type} · ${e.visibility} · ${e.conversation_id}`;
  const body = document.createElement('div');
  body.className = 'event-body';
  body.textContent = summary(e);
  li.append(head, body);
  return li;
}

function summary(e) {
  const p = e.payload ?? {};
  switch (e.type) {
    case 'USER_MESSAGE': return p.content ?? '';
    case 'ASSISTANT_MESSAGE': return `${p.content ?? ''}  [${p.finish_reason ?? ''}, ${p.tokens ?? '?'} tokens]`;
    case 'SUMMARY_REFRESH': return `${(p.evicted_event_ids ?? []).length} turn(s) left the window; summary ${String(p.summary_ref ?? '').slice(0, 12)}…`;
    default: return JSON.stringify(p);
  }
}
