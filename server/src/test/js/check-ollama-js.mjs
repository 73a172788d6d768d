// Talks to the sidecar with the official ollama JS client; prints one JSON line with what it saw.
import { Ollama } from 'ollama';

const host = process.argv[2];
const client = new Ollama({ host });

const whole = await client.chat({
  model: 'echo',
  messages: [{ role: 'user', content: 'hello from javascript' }],
  stream: false,
});

let streamed = '';
let parts = 0;
let final = null;
const stream = await client.chat({
  model: 'echo',
  messages: [
    { role: 'system', content: 'be brief' },
    { role: 'user', content: 'stream these words' },
  ],
  stream: true,
});
for await (const part of stream) {
  streamed += part.message.content;
  parts++;
  if (part.done) final = part;
}

let generated = '';
for await (const part of await client.generate({ model: 'echo', prompt: 'generate this', stream: true })) {
  generated += part.response;
}

const list = await client.list();
const show = await client.show({ model: 'echo' });

console.log(JSON.stringify({
  whole: whole.message.content,
  wholeDone: whole.done,
  wholeReason: whole.done_reason,
  streamed,
  parts,
  finalReason: final && final.done_reason,
  finalEvalCount: final && final.eval_count,
  generated,
  models: list.models.map((m) => m.name),
  showHasDetails: !!show.details,
}));
