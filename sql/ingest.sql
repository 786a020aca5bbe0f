-- claudecost.ingest: every accepted format, every skipped record and every
-- error message.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;

CREATE TEMP VIEW ingested AS
SELECT request_id, model, user_id, project_id, session_id, tags, service_tier,
       inference_geo, speed, input_tokens, output_tokens, cache_write_5m_tokens AS w5m,
       cache_write_1h_tokens AS w1h, cache_read_tokens AS cache_read,
       web_search_requests AS searches, web_fetch_requests AS fetches, total_cost
FROM claudecost.usage;

-- Messages API response (recorded live, web search).
SELECT claudecost.ingest('{"model":"claude-haiku-4-5-20251001","id":"msg_011Y4sbfjCq85yJrUA13Dxb3","type":"message","role":"assistant","content":[{"type":"text","text":"..."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":11306,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":163,"service_tier":"standard","inference_geo":"not_available","server_tool_use":{"web_search_requests":1,"web_fetch_requests":0}}}');
-- Replaying the same response changes nothing.
SELECT claudecost.ingest('{"model":"claude-haiku-4-5-20251001","id":"msg_011Y4sbfjCq85yJrUA13Dxb3","type":"message","role":"assistant","content":[{"type":"text","text":"..."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":11306,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":163,"service_tier":"standard","inference_geo":"not_available","server_tool_use":{"web_search_requests":1,"web_fetch_requests":0}}}');
SELECT * FROM ingested WHERE request_id = 'msg_011Y4sbfjCq85yJrUA13Dxb3';
SELECT metadata FROM claudecost.usage WHERE request_id = 'msg_011Y4sbfjCq85yJrUA13Dxb3';

-- Cache split, residency, tier and speed map to their columns.
SELECT claudecost.ingest('{"type":"message","id":"msg_split","model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":10,"cache_creation_input_tokens":300,"cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":200},"cache_read_input_tokens":50,"output_tokens":20,"service_tier":"priority","inference_geo":"us","server_tool_use":{"web_search_requests":2,"web_fetch_requests":3}}}');
SELECT claudecost.ingest('{"type":"message","id":"msg_global","model":"claude-opus-4-6","usage":{"input_tokens":5,"output_tokens":7,"inference_geo":"global","speed":"fast","service_tier":"standard"}}');
SELECT claudecost.ingest('{"type":"message","id":"msg_geo_empty","model":"claude-opus-4-6","usage":{"input_tokens":5,"output_tokens":7,"inference_geo":"","service_tier":"standard"}}');
-- Without the split every cache write is a 5-minute write; the default is recorded.
SELECT claudecost.ingest('{"type":"message","id":"msg_nosplit","model":"claude-3-7-sonnet-20250219","usage":{"input_tokens":3,"cache_creation_input_tokens":12304,"output_tokens":550}}');
SELECT * FROM ingested WHERE request_id IN ('msg_split', 'msg_global', 'msg_geo_empty', 'msg_nosplit')
ORDER BY request_id COLLATE "C";
SELECT request_id, metadata FROM claudecost.usage
WHERE request_id IN ('msg_split', 'msg_nosplit') ORDER BY request_id COLLATE "C";

-- A 0/0 programmatic tool calling continuation bills nothing.
SELECT claudecost.ingest('{"model":"claude-opus-4-5-20251101","id":"msg_0147NV7w8PyZ6bSUsNY79cYj","type":"message","role":"assistant","content":[],"usage":{"input_tokens":0,"output_tokens":0,"server_tool_use":{"web_search_requests":0,"web_fetch_requests":0}}}');

-- SSE stream: message_start input 4, cache read 2,455, output 1, then a
-- cumulative message_delta output 23: one row with output 23, never 24.
SELECT claudecost.ingest(E'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_haiku35_stream","type":"message","role":"assistant","content":[],"model":"claude-3-5-haiku-20241022","stop_reason":null,"usage":{"input_tokens":4,"cache_creation_input_tokens":0,"cache_read_input_tokens":2455,"output_tokens":1}}}\n\nevent: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\nevent: ping\ndata: {"type": "ping"}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}\n\nevent: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\nevent: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":23}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n');
SELECT * FROM ingested WHERE request_id = 'msg_haiku35_stream';
SELECT total_cost = 0.0002916 AS haiku35_stream_cost_ok FROM claudecost.usage
WHERE request_id = 'msg_haiku35_stream';

-- A newer stream repeats every count in message_delta (recorded live; CRLF
-- line ends).  Overlay, not sum: input 659, output 74.
SELECT claudecost.ingest(E'event: message_start\r\ndata: {"type":"message_start","message":{"model":"claude-haiku-4-5-20251001","id":"msg_stream_crlf","type":"message","role":"assistant","content":[],"usage":{"input_tokens":659,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":26,"service_tier":"standard","inference_geo":"not_available"}}}\r\n\r\nevent: message_delta\r\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"input_tokens":659,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":74}}\r\n\r\nevent: message_stop\r\ndata: {"type":"message_stop"}\r\n\r\n');
SELECT * FROM ingested WHERE request_id = 'msg_stream_crlf';

-- A stream cut before message_delta is kept with its provisional output and
-- marked incomplete; the complete stream raises it to the final count.
SELECT claudecost.ingest(E'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_stream_cut","model":"claude-sonnet-4-20250514","usage":{"input_tokens":377,"output_tokens":1}}}\n\n');
SELECT output_tokens, metadata FROM claudecost.usage WHERE request_id = 'msg_stream_cut';
SELECT claudecost.ingest(E'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_stream_cut","model":"claude-sonnet-4-20250514","usage":{"input_tokens":377,"output_tokens":1}}}\n\nevent: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":65}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n');
SELECT output_tokens, metadata FROM claudecost.usage WHERE request_id = 'msg_stream_cut';

-- A stream that fails with an error event bills nothing; so does an error-only stream.
SELECT claudecost.ingest(E'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_stream_failed","model":"claude-sonnet-4-20250514","usage":{"input_tokens":377,"output_tokens":1}}}\n\nevent: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n');
SELECT claudecost.ingest('data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}');
SELECT count(*) AS failed_stream_rows FROM claudecost.usage WHERE request_id = 'msg_stream_failed';

-- Message Batches results: only succeeded lines bill, always at the batch tier.
SELECT claudecost.ingest('{"custom_id":"my-second-request","result":{"type":"succeeded","message":{"id":"msg_014VwiXbi91y3JMjcpyGBHX5","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":11,"output_tokens":36}}}}');
SELECT claudecost.ingest('{"custom_id":"probe-beta","result":{"type":"succeeded","message":{"model":"claude-haiku-4-5-20251001","id":"msg_011CdvzDZWTGo2WQ1dBtcJgs","type":"message","role":"assistant","content":[],"usage":{"input_tokens":14,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":5,"service_tier":"batch","inference_geo":"not_available"}}}}');
SELECT claudecost.ingest('{"custom_id":"probe-bad","result":{"type":"errored","error":{"type":"error","error":{"details":{"error_visibility":"user_facing"},"type":"invalid_request_error","message":"messages: at least one message is required"},"request_id":null}}}');
SELECT claudecost.ingest('{"custom_id":"c1","result":{"type":"canceled"}}');
SELECT claudecost.ingest('{"custom_id":"e1","result":{"type":"expired"}}');
SELECT * FROM ingested WHERE service_tier = 'batch' ORDER BY request_id COLLATE "C";
SELECT request_id, metadata FROM claudecost.usage WHERE service_tier = 'batch'
ORDER BY request_id COLLATE "C";

-- Claude Code session log: an assistant line bills; project from cwd,
-- session from sessionId, occurred_at from timestamp, ids in metadata.
SELECT claudecost.ingest('{"parentUuid":"7d48cbd2-6615-4dd8-87f6-38f12b8167d6","isSidechain":false,"userType":"external","cwd":"/home/USER/projects/spotter","sessionId":"55604662-cf2a-4331-851a-ec234028f8ca","version":"2.1.38","gitBranch":"master","message":{"model":"claude-opus-4-6","id":"msg_01MKH1ccEGrZGNPvu8pYiiQa","type":"message","role":"assistant","content":[{"type":"text","text":"..."}],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"cache_creation_input_tokens":13835,"cache_read_input_tokens":11515,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":13835},"output_tokens":13,"service_tier":"standard","inference_geo":"not_available"}},"requestId":"req_011CY15QS2LGwAeBxdfa6e1V","type":"assistant","uuid":"1b7d717f-d6a2-46a6-8575-fa4f937450ea","timestamp":"2026-02-10T21:11:59.186Z"}',
    'regress_alice', NULL, ARRAY['cli', 'demo']);
SELECT * FROM ingested WHERE request_id = 'msg_01MKH1ccEGrZGNPvu8pYiiQa';
SELECT occurred_at AT TIME ZONE 'UTC' AS occurred_at_utc, metadata FROM claudecost.usage
WHERE request_id = 'msg_01MKH1ccEGrZGNPvu8pYiiQa';

-- The caller's project_id wins over cwd.
SELECT claudecost.ingest('{"type":"assistant","cwd":"/home/USER/projects/spotter","sessionId":"s2","isSidechain":true,"agentId":"a881341","message":{"id":"msg_cc_sidechain","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":10,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":4,"service_tier":"standard","inference_geo":""}},"requestId":"req_2","uuid":"u2","timestamp":"2026-02-10T21:12:00.000Z"}',
    NULL, 'spotter');
SELECT request_id, project_id, session_id, inference_geo, metadata FROM claudecost.usage
WHERE request_id = 'msg_cc_sidechain';

-- Lines that bill nothing: other line types, usage embedded in a progress
-- line, failed calls (<synthetic>, isApiErrorMessage), summary.
SELECT claudecost.ingest('{"parentUuid":null,"isSidechain":false,"cwd":"/home/USER/projects/spotter","sessionId":"s1","type":"user","message":{"role":"user","content":"hello"},"uuid":"u0","timestamp":"2026-02-10T21:11:52.000Z"}');
SELECT claudecost.ingest('{"type":"progress","sessionId":"s1","data":{"type":"agent_progress","message":{"type":"assistant","message":{"id":"msg_embedded","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":10,"output_tokens":300}}}},"timestamp":"2026-02-10T21:12:00.000Z"}');
SELECT claudecost.ingest('{"type":"assistant","isApiErrorMessage":true,"apiErrorStatus":401,"error":"authentication_failed","message":{"model":"<synthetic>","content":[{"type":"text","text":"Please run /login"}]}}');
SELECT claudecost.ingest('{"type":"assistant","sessionId":"s1","message":{"id":"msg_synth","model":"<synthetic>","usage":{"input_tokens":0,"output_tokens":0}}}');
SELECT claudecost.ingest('{"type":"summary","summary":"Fix the build","leafUuid":"u9"}');
SELECT claudecost.ingest('{"type":"file-history-snapshot","messageId":"m1","snapshot":{},"isSnapshotUpdate":false}');
SELECT count(*) AS skipped_rows FROM claudecost.usage
WHERE request_id IN ('msg_embedded', 'msg_synth');

-- Early Claude Code lines had no type and carried Claude Code's own costUSD.
SELECT claudecost.ingest('{"timestamp":"2026-01-09T12:30:00.000Z","sessionId":"session-alpha","message":{"role":"assistant","id":"msg-alpha-2","model":"claude-opus-4-20250514","usage":{"input_tokens":200,"output_tokens":75,"cache_creation_input_tokens":50,"cache_read_input_tokens":20,"speed":"fast"}},"requestId":"req-alpha-2","costUSD":0.34,"version":"1.0.0"}');
SELECT request_id, speed, w5m, cache_read, session_id FROM ingested WHERE request_id = 'msg-alpha-2';
SELECT metadata FROM claudecost.usage WHERE request_id = 'msg-alpha-2';

-- claude -p stream-json assistant events use session_id.
SELECT claudecost.ingest('{"type":"assistant","message":{"id":"msg_01KG2kL94VWFMh6mn39mbonY","type":"message","role":"assistant","model":"claude-opus-4-1-20250805","content":[],"usage":{"input_tokens":4,"cache_creation_input_tokens":192,"cache_read_input_tokens":17004,"output_tokens":8,"service_tier":"standard"}},"parent_tool_use_id":null,"session_id":"e2ad3ea4"}');
SELECT claudecost.ingest('{"type":"result","subtype":"success","is_error":false,"duration_ms":32340,"num_turns":8,"session_id":"e2ad3ea4","total_cost_usd":0.34641975,"usage":{"input_tokens":8,"output_tokens":32}}');
SELECT request_id, session_id, input_tokens, output_tokens FROM ingested
WHERE request_id = 'msg_01KG2kL94VWFMh6mn39mbonY';

-- OpenAI-compatible gateway response (OpenRouter, recorded): the gateway's
-- cost goes to metadata, the cost columns come from the price catalog.
SELECT claudecost.ingest('{"id":"gen-1791609229-WpnW70pHKiPTu3s3QugG","object":"chat.completion","created":1791609229,"model":"anthropic/claude-sonnet-4","provider":"Amazon Bedrock","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Hello!"}}],"usage":{"prompt_tokens":38,"completion_tokens":81,"total_tokens":119,"cost":0.001329,"is_byok":false,"prompt_tokens_details":{"cached_tokens":0,"cache_write_tokens":0,"audio_tokens":0,"video_tokens":0},"cost_details":{"upstream_inference_cost":0.001329},"completion_tokens_details":{"reasoning_tokens":59,"image_tokens":0,"audio_tokens":0}}}');
SELECT * FROM ingested WHERE request_id = 'gen-1791609229-WpnW70pHKiPTu3s3QugG';
SELECT occurred_at AT TIME ZONE 'UTC' AS occurred_at_utc, metadata FROM claudecost.usage
WHERE request_id = 'gen-1791609229-WpnW70pHKiPTu3s3QugG';
-- input = prompt - cached - cache writes; clamped at 0 when a gateway's
-- prompt count leaves out cache writes.
SELECT claudecost.ingest('{"id":"gen-cached","object":"chat.completion","model":"anthropic/claude-3.7-sonnet","choices":[],"usage":{"prompt_tokens":1000,"completion_tokens":10,"prompt_tokens_details":{"cached_tokens":600,"cache_write_tokens":300}}}');
SELECT claudecost.ingest('{"id":"gen-clamped","object":"chat.completion","model":"anthropic/claude-3.7-sonnet","choices":[],"usage":{"prompt_tokens":100,"completion_tokens":10,"prompt_tokens_details":{"cached_tokens":80,"cache_write_tokens":50}}}');
SELECT claudecost.ingest('{"id":"chatcmpl-litellm","object":"chat.completion","model":"claude-3-7-sonnet-20250219","choices":[],"usage":{"prompt_tokens":500,"completion_tokens":10,"cache_read_input_tokens":100,"cache_creation_input_tokens":200}}');
SELECT request_id, input_tokens, w5m, cache_read, output_tokens FROM ingested
WHERE request_id IN ('gen-cached', 'gen-clamped', 'chatcmpl-litellm') ORDER BY request_id COLLATE "C";
SELECT request_id, metadata FROM claudecost.usage
WHERE request_id IN ('gen-cached', 'gen-clamped') ORDER BY request_id COLLATE "C";
-- A stream chunk without usage bills nothing.
SELECT claudecost.ingest('{"id":"gen-chunk","object":"chat.completion.chunk","model":"anthropic/claude-sonnet-4","choices":[{"index":0,"delta":{"content":"Hi"}}]}');

-- Free records: count_tokens results and API error bodies.
SELECT claudecost.ingest('{"input_tokens": 2095}');
SELECT claudecost.ingest('{"context_management": {"original_input_tokens": 0}, "input_tokens": 2095}');
SELECT claudecost.ingest('{"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed your rate limit."},"request_id":"req_011CYK5n67SytMUxm8WMZUWY"}');

-- Several records in one payload: JSONL, a JSON array, pretty-printed JSON.
SELECT claudecost.ingest(E'{"type":"message","id":"msg_jsonl_1","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2}}\n{"input_tokens": 5}\n\n{"type":"message","id":"msg_jsonl_2","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":3,"output_tokens":4}}\n');
SELECT claudecost.ingest('[{"type":"message","id":"msg_array_1","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2}},{"type":"message","id":"msg_array_2","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2}}]');
SELECT claudecost.ingest(E'{\n  "type": "message",\n  "id": "msg_pretty",\n  "model": "claude-haiku-4-5-20251001",\n  "usage": {\n    "input_tokens": 1,\n    "output_tokens": 2\n  }\n}\n');
SELECT request_id FROM claudecost.usage WHERE request_id ~ '^msg_(jsonl|array|pretty)'
ORDER BY request_id COLLATE "C";

-- NULL payload: NULL result.
SELECT claudecost.ingest(NULL) IS NULL AS null_payload;

-- Errors.  Malformed JSON: invalid_text_representation with the byte offset.
\set VERBOSITY default
SELECT claudecost.ingest('{"type": "message", "id": }');
SELECT claudecost.ingest('{"type": "message", "id": "msg_x", ');
SELECT claudecost.ingest(E'{"input_tokens": 1}\n{"input_tokens": 2}\n{"type": "message" "id": "x"}');
SELECT claudecost.ingest('');
SELECT claudecost.ingest(E'  \n\t ');
SELECT claudecost.ingest('hello');
SELECT claudecost.ingest(E'event: message_start\ndata: {"type":"message_start","message":{"id":"m"\n\n');
-- Unrecognized shapes.
SELECT claudecost.ingest('{"foo": 1, "bar": 2}');
SELECT claudecost.ingest('{}');
SELECT claudecost.ingest('{"input_tokens": 10, "output_tokens": 5}');
SELECT claudecost.ingest('42');
SELECT claudecost.ingest('[1]');
SELECT claudecost.ingest('{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10}');
-- Missing required fields.
SELECT claudecost.ingest('{"type":"message","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2}}');
SELECT claudecost.ingest('{"type":"message","id":"msg_x","usage":{"input_tokens":1,"output_tokens":2}}');
SELECT claudecost.ingest('{"type":"message","id":"msg_x","model":"claude-haiku-4-5-20251001"}');
SELECT claudecost.ingest('{"type":"message","id":"msg_x","model":"claude-haiku-4-5-20251001","usage":{"output_tokens":2}}');
SELECT claudecost.ingest('{"type":"message","id":"msg_x","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1}}');
SELECT claudecost.ingest('{"type":"message","id":null,"model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2}}');
SELECT claudecost.ingest('{"type":"assistant","message":{"usage":{"input_tokens":1000,"output_tokens":50,"cache_creation_input_tokens":100,"cache_read_input_tokens":500}}}');
SELECT claudecost.ingest('{"type":"assistant","sessionId":"s1"}');
SELECT claudecost.ingest('{"custom_id":"x","result":{"message":{}}}');
SELECT claudecost.ingest('{"custom_id":"x","result":{"type":"succeeded"}}');
SELECT claudecost.ingest('{"custom_id":"x","result":{"type":"succeeded","message":{"id":"msg_b","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1}}}}');
SELECT claudecost.ingest('{"object":"chat.completion.chunk","usage":{"completion_tokens":2,"prompt_tokens":194,"cost":0.95}}');
SELECT claudecost.ingest('{"id":"gen-x","object":"chat.completion.chunk","usage":{"completion_tokens":2,"prompt_tokens":194}}');
SELECT claudecost.ingest('{"id":"gen-x","model":"anthropic/claude-sonnet-4","choices":[]}');
SELECT claudecost.ingest('{"id":"gen-x","model":"anthropic/claude-sonnet-4","choices":[],"usage":{"completion_tokens":2}}');
SELECT claudecost.ingest(E'event: ping\ndata: {"type": "ping"}\n\n');
SELECT claudecost.ingest(E'event: message_start\ndata: {"type":"message_start"}\n\n');
SELECT claudecost.ingest(E'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_s","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1}}}\n\n');
-- Fields of the wrong type or value.
SELECT claudecost.ingest('{"type":"message","id":"msg_x","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":"12","output_tokens":2}}');
SELECT claudecost.ingest('{"type":"message","id":"msg_x","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":-5,"output_tokens":2}}');
SELECT claudecost.ingest('{"type":"message","id":"msg_x","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1.5,"output_tokens":2}}');
SELECT claudecost.ingest('{"type":"message","id":"msg_x","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1e20,"output_tokens":2}}');
SELECT claudecost.ingest('{"type":"message","id":"msg_x","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2,"server_tool_use":{"web_search_requests":3000000000}}}');
SELECT claudecost.ingest('{"type":"message","id":"msg_x","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2,"cache_creation":[100]}}');
SELECT claudecost.ingest('{"type":"message","id":"msg_x","model":"","usage":{"input_tokens":1,"output_tokens":2}}');
SELECT claudecost.ingest('{"type":"message","id":42,"model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2}}');
SELECT claudecost.ingest('{"type":"message","id":"msg_x","model":"claude-haiku-4-5-20251001","usage":true}');
SELECT claudecost.ingest('{"type":"assistant","sessionId":"s1","message":"hello"}');
SELECT claudecost.ingest('{"type":"assistant","isApiErrorMessage":"yes","message":{}}');
SELECT claudecost.ingest('{"type":"assistant","sessionId":"s1","timestamp":"yesterday-ish","message":{"id":"msg_t","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2}}}');
SELECT claudecost.ingest('{"id":"gen-x","object":"chat.completion","created":-1,"model":"anthropic/claude-sonnet-4","usage":{"prompt_tokens":1,"completion_tokens":2}}');
SELECT claudecost.ingest('{"id":"gen-x","object":"chat.completion","created":9000000000000000,"model":"anthropic/claude-sonnet-4","usage":{"prompt_tokens":1,"completion_tokens":2}}');
-- Values that the usage table rejects reach the caller with the table's
-- error (terse: the context would quote the whole INSERT statement).
\set VERBOSITY terse
SELECT claudecost.ingest('{"type":"message","id":"msg_flex","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2,"service_tier":"flex"}}');
\set VERBOSITY default
-- An error in the second record of a JSONL payload rolls back the first.
SELECT claudecost.ingest(E'{"type":"message","id":"msg_rollback","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2}}\n{"type":"message"}');
SELECT count(*) AS rolled_back FROM claudecost.usage WHERE request_id = 'msg_rollback';

-- SQLSTATE of each kind of error.
CREATE FUNCTION pg_temp.ingest_sqlstate(payload text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM claudecost.ingest(payload);
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END
$$;
SELECT kind, pg_temp.ingest_sqlstate(payload) AS sqlstate
FROM (VALUES
    ('malformed JSON', '{"type": '),
    ('empty payload', ''),
    ('unrecognized format', '{"foo": 1}'),
    ('missing field', '{"type":"message"}'),
    ('wrong type', '{"type":"message","id":1}'),
    ('negative count', '{"type":"message","id":"m","model":"x","usage":{"input_tokens":-1,"output_tokens":1}}'),
    ('count out of range', '{"type":"message","id":"m","model":"x","usage":{"input_tokens":1e300,"output_tokens":1}}'),
    ('invalid timestamp', '{"type":"assistant","timestamp":"x","message":{"id":"m","model":"x","usage":{"input_tokens":1,"output_tokens":1}}}')
) AS cases(kind, payload)
ORDER BY kind COLLATE "C";

-- Two SSE events without the blank line between them.
SELECT claudecost.ingest(E'event: message_start\ndata: {"type":"message_start","message":{"id":"m","model":"x","usage":{"input_tokens":1,"output_tokens":1}}}\nevent: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":5}}\n\n');
