// Runs a tool loop (call -> result -> final answer) with the official ollama JS client, streamed and whole;
// prints one JSON line with what it saw.
import { Ollama } from 'ollama';

const host = process.argv[2];
const model = process.argv[3];
const client = new Ollama({ host });
const tools = [{
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather of a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
}];
const weather = { Paris: '21 C', Oslo: '3 C' };

async function agent(stream) {
  const messages = [{ role: 'user', content: 'Weather in Paris and Oslo?' }];
  let calls = [];
  let assistant = { role: 'assistant', content: '' };
  if (stream) {
    for await (const part of await client.chat({ model, messages, tools, stream: true })) {
      assistant.content += part.message.content;
      for (const c of part.message.tool_calls ?? []) calls.push(c);
    }
    assistant.tool_calls = calls;
  } else {
    const r = await client.chat({ model, messages, tools, stream: false });
    assistant = r.message;
    calls = r.message.tool_calls ?? [];
  }
  messages.push(assistant);
  for (const c of calls) {
    messages.push({ role: 'tool', tool_name: c.function.name, content: weather[c.function.arguments.city] });
  }
  const answer = await client.chat({ model, messages, tools, stream: false });
  return {
    calls: calls.map((c) => ({ name: c.function.name, city: c.function.arguments.city })),
    answer: answer.message.content,
  };
}

console.log(JSON.stringify({ streamed: await agent(true), whole: await agent(false) }));
