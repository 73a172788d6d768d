/** Chat templates (llama2, llama3, chatml and fallbacks) that render chat messages to prompt token ids. */
package io.streamingllm.local.template;
