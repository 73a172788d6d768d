// Talks to the sidecar's /v1 with the official openai JS client; prints one JSON line with what it saw.
import OpenAI from 'openai';

const baseURL = process.argv[2];
const client = new OpenAI({ baseURL, apiKey: 'sekret', maxRetries: 0 });

const whole = await client.chat.completions.create({
  model: 'echo',
  messages: [{ role: 'developer', content: 'be brief' }, { role: 'user', content: 'hello from javascript' }],
  max_completion_tokens: 2,
});

let streamed = '';
let usage = null;
let finish = null;
const stream = await client.chat.completions.create({
  model: 'echo',
  messages: [{ role: 'user', content: [{ type: 'text', text: 'stream these words' }] }],
  stream: true,
  stream_options: { include_usage: true },
});
for await (const chunk of stream) {
  if (chunk.choices.length > 0) {
    streamed += chunk.choices[0].delta.content ?? '';
    finish = chunk.choices[0].finish_reason ?? finish;
  }
  if (chunk.usage) usage = chunk.usage;
}

const models = await client.models.list();

let notFound = null;
try {
  await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
} catch (e) {
  notFound = { type: e.constructor.name, status: e.status, code: e.code, message: e.message };
}
let unauthorized = null;
try {
  await new OpenAI({ baseURL, apiKey: 'wrong', maxRetries: 0 }).models.list();
} catch (e) {
  unauthorized = { type: e.constructor.name, status: e.status };
}

console.log(JSON.stringify({
  whole: whole.choices[0].message.content,
  wholeReason: whole.choices[0].finish_reason,
  wholeCompletionTokens: whole.usage.completion_tokens,
  streamed,
  finish,
  usage,
  models: models.data.map((m) => m.id),
  notFound,
  unauthorized,
}));
