// Wiring: the tabs, the token prompt, the engine status line, and each view's module.
import { api, onTokenNeeded } from './api.js';
import { ChatView } from './chat.js';
import { ConversationsView } from './conversations.js';
import { EventsView } from './events.js';
import { AgentsView } from './agents.js';

const $ = id => document.getElementById(id);

onTokenNeeded(wrong => new Promise(resolve => {
  const dialog = $('token-dialog');
  $('token-error').textContent = wrong ? 'That token was refused: try again.' : '';
  $('token-input').value = '';
  $('token-form').onsubmit = () => resolve($('token-input').value.trim());
  // the page can do nothing without the token: Esc must not close the prompt
  dialog.oncancel = ev => ev.preventDefault();
  dialog.showModal();
}));

async function engineStatus() {
  const line = $('engine-status');
  try {
    const r = await fetch('/healthz');
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
  } catch (e) {
    line.textContent = `sidecar unreachable (${e.message})`;
    line.className = 'status bad';
    return;
  }
  try {
    const ready = await api('/readyz');
    line.textContent = `${ready.engine} · ${ready.model}: ready`;
    line.className = 'status ok';
  } catch (e) {
    // 503 carries the engine's advice in detail
    line.textContent = `engine not ready: ${e.detail || e.message}`;
    line.className = 'status bad';
  }
}

const chat = new ChatView(engineStatus);
const views = {
  chat,
  conversations: new ConversationsView(id => { chat.open(id); show('chat'); }),
  events: new EventsView(),
  agents: new AgentsView(() => chat.loadAgents()),
};

function show(name) {
  for (const tab of document.querySelectorAll('.tab')) {
    const on = tab.dataset.view === name;
    tab.setAttribute('aria-selected', String(on));
    $(`${tab.dataset.view}-view`).hidden = !on;
  }
  views[name].shown?.();
}

for (const tab of document.querySelectorAll('.tab')) {
  tab.addEventListener('click', () => show(tab.dataset.view));
}

engineStatus().then(() => chat.start());
