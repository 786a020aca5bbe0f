#!/usr/bin/env bash
# Loads request shapes from real LLM traces into public.bench_trace_shape of
# the database psql connects to (PG* environment variables):
#   - Azure LLM inference trace 2023 (code and conversation): input and
#     output token counts, no caching;
#   - Mooncake FAST'25 conversation trace: input and output counts, and the
#     512-token prefix blocks (hash_ids) of each request, from which the
#     cache split is derived: a block already seen earlier in the trace is a
#     cache read, a new block a 5-minute cache write, the rest plain input.
# Usage: bench/common/load-trace-shapes.sh [TRACE_DIR]
# TRACE_DIR (default data/traces) holds AzureLLMInferenceTrace_*.csv and
# conversation_trace.jsonl, at any depth.
set -euo pipefail
trace_dir=${1:-$(cd "$(dirname "$0")/../.." && pwd)/data/traces}
# The original Mooncake JSONL, or the per-request CSV derived from it
# (input, output and cached tokens) that data/traces ships.
mooncake=$(find "$trace_dir" -name conversation_trace.jsonl | head -n 1)
mooncake_csv=$(find "$trace_dir" -name mooncake_conversation_usage.csv | head -n 1)
if [ -z "$mooncake" ] && [ -z "$mooncake_csv" ]; then
    echo "load-trace-shapes: no Mooncake trace under $trace_dir" >&2
    exit 1
fi

psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
DROP TABLE IF EXISTS public.bench_trace_shape, public.bench_azure, public.bench_mooncake;
CREATE TABLE public.bench_azure (ts text, context_tokens bigint, generated_tokens bigint);
CREATE TABLE public.bench_mooncake (line jsonb);
SQL

find "$trace_dir" -name 'AzureLLMInferenceTrace_*.csv' | sort | while read -r file; do
    psql -X -q -v ON_ERROR_STOP=1 -c "COPY public.bench_azure FROM STDIN WITH (FORMAT csv, HEADER true)" < "$file"
done
if [ -z "$mooncake" ]; then
    psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE public.bench_trace_shape (
    id bigint GENERATED ALWAYS AS IDENTITY,
    input_tokens bigint, output_tokens bigint,
    cache_write_5m_tokens bigint, cache_read_tokens bigint);
INSERT INTO public.bench_trace_shape (input_tokens, output_tokens, cache_write_5m_tokens, cache_read_tokens)
SELECT context_tokens, generated_tokens, 0, 0 FROM public.bench_azure;
CREATE TABLE public.bench_mooncake_csv (timestamp_ms bigint, input_tokens bigint, output_tokens bigint,
                                        cached_tokens bigint, prefix_block text);
SQL
    psql -X -q -v ON_ERROR_STOP=1 \
        -c "COPY public.bench_mooncake_csv FROM STDIN WITH (FORMAT csv, HEADER true)" < "$mooncake_csv"
    psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
INSERT INTO public.bench_trace_shape (input_tokens, output_tokens, cache_write_5m_tokens, cache_read_tokens)
SELECT greatest(input_tokens - cached_tokens, 0), output_tokens, 0, least(cached_tokens, input_tokens)
FROM public.bench_mooncake_csv;
DROP TABLE public.bench_azure, public.bench_mooncake, public.bench_mooncake_csv;
SQL
    psql -X -q -At -c "SELECT 'trace shapes: ' || count(*) || ' requests, mean input ' || round(avg(input_tokens + cache_write_5m_tokens + cache_read_tokens)) || ' prompt tokens, ' || round(100.0 * sum(cache_read_tokens) / sum(input_tokens + cache_write_5m_tokens + cache_read_tokens), 1) || '% cache reads' FROM public.bench_trace_shape"
    exit 0
fi
psql -X -q -v ON_ERROR_STOP=1 \
    -c "COPY public.bench_mooncake FROM STDIN WITH (FORMAT csv, DELIMITER E'\x01', QUOTE E'\x02')" \
    < "$mooncake"

psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE public.bench_trace_shape (
    id bigint GENERATED ALWAYS AS IDENTITY,
    input_tokens bigint, output_tokens bigint,
    cache_write_5m_tokens bigint, cache_read_tokens bigint);

INSERT INTO public.bench_trace_shape (input_tokens, output_tokens, cache_write_5m_tokens, cache_read_tokens)
SELECT context_tokens, generated_tokens, 0, 0 FROM public.bench_azure;

WITH requests AS (
    SELECT row_number() OVER () AS request, line
    FROM public.bench_mooncake
), blocks AS (
    SELECT r.request, b.hash_id::bigint AS hash_id
    FROM requests r, jsonb_array_elements_text(r.line -> 'hash_ids') AS b(hash_id)
), first_seen AS (
    SELECT hash_id, min(request) AS first_request FROM blocks GROUP BY hash_id
), split AS (
    SELECT b.request,
           512 * count(*) FILTER (WHERE f.first_request < b.request) AS cached,
           512 * count(*) FILTER (WHERE f.first_request = b.request) AS written
    FROM blocks b JOIN first_seen f USING (hash_id)
    GROUP BY b.request
)
INSERT INTO public.bench_trace_shape (input_tokens, output_tokens, cache_write_5m_tokens, cache_read_tokens)
SELECT greatest((r.line ->> 'input_length')::bigint - least(s.cached + s.written, (r.line ->> 'input_length')::bigint), 0),
       (r.line ->> 'output_length')::bigint,
       least(s.written, greatest((r.line ->> 'input_length')::bigint - s.cached, 0)),
       least(s.cached, (r.line ->> 'input_length')::bigint)
FROM requests r JOIN split s USING (request)
ORDER BY r.request;

DROP TABLE public.bench_azure, public.bench_mooncake;
SQL
psql -X -q -At -c "SELECT 'trace shapes: ' || count(*) || ' requests, mean input ' || round(avg(input_tokens + cache_write_5m_tokens + cache_read_tokens)) || ' prompt tokens, ' || round(100.0 * sum(cache_read_tokens) / sum(input_tokens + cache_write_5m_tokens + cache_read_tokens), 1) || '% cache reads' FROM public.bench_trace_shape"
