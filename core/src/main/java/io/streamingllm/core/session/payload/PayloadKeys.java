package io.streamingllm.core.session.payload;

/** The key names of the event payloads; {@code package-info} says which payload has which, and what they mean. */
public final class PayloadKeys {
    public static final String CONTENT = "content";
    public static final String AGENT_ID = "agent_id";
    public static final String MODEL = "model";
    public static final String TURN = "turn";
    public static final String TOKENS = "tokens";
    public static final String FINISH_REASON = "finish_reason";
    public static final String PROMPT_TOKENS = "prompt_tokens";
    public static final String COMPLETION_TOKENS = "completion_tokens";
    public static final String TOTAL_DURATION = "total_duration";
    public static final String LOAD_DURATION = "load_duration";
    public static final String PROMPT_EVAL_DURATION = "prompt_eval_duration";
    public static final String EVAL_DURATION = "eval_duration";
    public static final String WINDOW = "window";
    public static final String ERROR = "error";
    public static final String SUMMARY_REF = "summary_ref";
    public static final String EVICTED_EVENT_IDS = "evicted_event_ids";
    public static final String EVICTED_TURNS = "evicted_turns";
    public static final String SUMMARY_TOKENS = "summary_tokens";
    public static final String MODE = "mode";
    public static final String MESSAGE = "message";
    public static final String KIND = "kind";
    public static final String SINK_TOKENS = "sink_tokens";
    public static final String RECENT_TOKENS = "recent_tokens";
    public static final String TOOL_CALLS = "tool_calls";
    public static final String TOOL_RESULTS = "tool_results";
    public static final String ID = "id";
    public static final String NAME = "name";
    public static final String ARGUMENTS = "arguments";
    public static final String TOOL_CALL_ID = "tool_call_id";
    public static final String TOOL_NAME = "tool_name";
    public static final String RECALL_TOKENS = "recall_tokens";
    public static final String RECALLED_EVENT_IDS = "recalled_event_ids";

    private PayloadKeys() {
    }
}
