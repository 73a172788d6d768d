// The agents editor: an agent file's front matter (id, name, system_prompt) and its markdown body. The sidecar
// validates; its refusal is shown next to the field it names.
import { api, ApiError, describe } from './api.js';

const $ = id => document.getElementById(id);
const FIELDS = { id: 'agent-id', name: 'agent-name', system_prompt: 'agent-system-prompt', markdown_context: 'agent-body' };

export class AgentsView {
  constructor(agentsChanged) {
    this.agentsChanged = agentsChanged;
    this.loadedId = null;
    $('agent-form').addEventListener('submit', ev => { ev.preventDefault(); this.save(); });
    $('agent-new').addEventListener('click', () => this.edit(null));
    $('agent-delete').addEventListener('click', () => this.remove());
  }

  async shown() {
    try {
      const { agents } = await api('/agents');
      $('agents-list').replaceChildren(...agents.map(a => {
        const li = document.createElement('li');
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = `${a.name} (${a.id})`;
        b.dataset.agentId = a.id;
        b.addEventListener('click', () => this.edit(a));
        li.append(b);
        return li;
      }));
      if (!this.loadedId && agents.length) this.edit(agents[0]);
    } catch (e) {
      this.formError(describe(e));
    }
  }

  edit(agent) {
    this.clearErrors();
    this.loadedId = agent?.id ?? null;
    // the editor has no tools field: a save keeps the loaded agent's tools (a PUT replaces the whole agent)
    this.loadedTools = agent?.tools ?? [];
    $('agent-id').value = agent?.id ?? '';
    $('agent-name').value = agent?.name ?? '';
    $('agent-system-prompt').value = agent?.system_prompt ?? '';
    $('agent-body').value = agent?.markdown_context ?? '';
    $('agent-delete').disabled = !agent;
    $('agent-saved').textContent = '';
  }

  async save() {
    this.clearErrors();
    const id = $('agent-id').value.trim();
    if (!id) {
      this.fieldError('id', 'id is required: it names the agent file');
      return;
    }
    try {
      const saved = await api(`/agents/${encodeURIComponent(id)}`, {
        method: 'PUT',
        body: {
          name: $('agent-name').value,
          system_prompt: $('agent-system-prompt').value,
          markdown_context: $('agent-body').value,
          tools: id === this.loadedId ? this.loadedTools : [],
        },
      });
      this.edit(saved);
      $('agent-saved').textContent = `saved ${saved.id}`;
      await this.shown();
      this.agentsChanged();
    } catch (e) {
      this.refused(e);
    }
  }

  async remove() {
    const id = this.loadedId;
    if (!id || !confirm(`Delete agent ${id}? Its file is removed.`)) return;
    try {
      await api(`/agents/${encodeURIComponent(id)}`, { method: 'DELETE' });
      this.edit(null);
      await this.shown();
      this.agentsChanged();
    } catch (e) {
      this.refused(e);
    }
  }

  /** A 400 names its field ("field name ...", "agent id ..."): shown under that field, anything else below the form. */
  refused(e) {
    if (e instanceof ApiError && e.status === 400) {
      const detail = e.detail ?? '';
      const field = Object.keys(FIELDS).find(f => new RegExp(`\\b(field ${f}|agent ${f}|${f})\\b`).test(detail));
      if (field) {
        this.fieldError(field, detail);
        return;
      }
    }
    this.formError(describe(e));
  }

  fieldError(field, text) {
    const input = $(FIELDS[field]);
    input.setAttribute('aria-invalid', 'true');
    $(`${FIELDS[field]}-error`).textContent = text;
    input.focus();
  }

  formError(text) {
    $('agent-error').textContent = text;
    $('agent-error').hidden = false;
  }

  clearErrors() {
    for (const id of Object.values(FIELDS)) {
      $(id).removeAttribute('aria-invalid');
      $(`${id}-error`).textContent = '';
    }
    $('agent-error').hidden = true;
  }
}
