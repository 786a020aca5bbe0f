-- Hostile search_path: operators, functions, aggregates and tables planted
-- in a schema ahead of pg_catalog (and temporary tables named like the
-- extension's) must never be called by the extension.  The main API runs
-- once with a normal search_path and once with the hostile one on a fresh
-- install; the results must be identical, and every planted object counts
-- its calls in a sequence, which no rollback resets.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
DROP SCHEMA IF EXISTS regress_hostile CASCADE;
DROP SCHEMA IF EXISTS regress_api CASCADE;
RESET client_min_messages;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
\set SHOW_CONTEXT never

-- Catalog rules.  Every SECURITY DEFINER function pins search_path.
SELECT p.oid::regprocedure AS definer_without_pinned_path
FROM pg_catalog.pg_proc p
WHERE p.pronamespace = 'claudecost'::regnamespace AND p.prosecdef
  AND NOT coalesce(p.proconfig @> '{"search_path=pg_catalog, pg_temp"}', false);

-- SQL and PL/pgSQL functions that do not pin search_path: only these
-- helpers, whose bodies qualify every operator and function.
SELECT p.oid::regprocedure::text COLLATE "C" AS unpinned_function
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_language l ON l.oid = p.prolang
WHERE p.pronamespace = 'claudecost'::regnamespace AND l.lanname IN ('sql', 'plpgsql')
  AND NOT coalesce(p.proconfig @> '{"search_path=pg_catalog, pg_temp"}', false)
ORDER BY 1;

-- C functions that pin search_path: the triggers whose SPI statements
-- name built-in functions and operators without pg_catalog.
SELECT p.oid::regprocedure::text COLLATE "C" AS pinned_c_function
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_language l ON l.oid = p.prolang
WHERE p.pronamespace = 'claudecost'::regnamespace AND l.lanname = 'c'
  AND p.proconfig @> '{"search_path=pg_catalog, pg_temp"}'
ORDER BY 1;

-- Views read with the querying role's privileges and row-level security.
SELECT c.oid::regclass AS view_without_security_invoker
FROM pg_catalog.pg_class c
WHERE c.relnamespace = 'claudecost'::regnamespace AND c.relkind = 'v'
  AND NOT coalesce(c.reloptions @> '{security_invoker=true}', false);

-- The main API, run by a function that uses no operator and no
-- unqualified function itself, so that only the extension's code is
-- exposed to the search_path of the caller.
CREATE SCHEMA regress_api;
CREATE TABLE regress_api.result (run text, step text, result text);
CREATE TABLE regress_api.staging (line_number bigint, line text);
INSERT INTO regress_api.staging VALUES
    (1, '{"type": "assistant", "sessionId": "s1", "timestamp": "2025-03-05T07:00:00Z", "message": {"id": "msg_line_1", "model": "claude-3-haiku-20240307", "usage": {"input_tokens": 2000, "output_tokens": 30}}}'),
    (2, 'not json'),
    (3, '{"type": "assistant", "sessionId": "s1", "timestamp": "2025-03-05T08:00:00Z", "message": {"id": "msg_line_3", "model": "regress-alias", "usage": {"input_tokens": 10, "cache_creation_input_tokens": 5000, "cache_read_input_tokens": 7000, "output_tokens": 40}}}');

CREATE FUNCTION regress_api.run(label text) RETURNS void
LANGUAGE plpgsql AS $run$
BEGIN
    -- Admin: prices, aliases, budgets, rules.
    INSERT INTO regress_api.result VALUES (label, 'add_price',
        claudecost.add_price('regress-model', 3, 15, effective_from => '2025-01-01')::text);
    INSERT INTO claudecost.model_alias (alias, model) VALUES ('regress-alias', 'regress-model');
    INSERT INTO regress_api.result VALUES (label, 'create_budget',
        claudecost.create_budget('regress web', 5, 'monthly', project_id => 'web',
                                 starts_at => '2025-01-01')::text);
    INSERT INTO regress_api.result VALUES (label, 'create_budget_daily',
        claudecost.create_budget('regress global', 1000, 'daily', currency => 'USD',
                                 starts_at => '2025-01-01', time_zone => 'Europe/Berlin')::text);

    -- Writer: usage rows by id, alias and gateway name, ingest, budgets.
    INSERT INTO claudecost.usage (request_id, occurred_at, model, user_id, project_id, input_tokens,
                                  output_tokens, cache_write_5m_tokens, cache_read_tokens, prompt_hash)
    VALUES ('r1', '2025-03-02 10:00', 'regress-model', 'alice', 'web', 1000000, 1000, 0, 0, 'h1'),
           ('r2', '2025-03-02 11:00', 'regress-alias', 'alice', 'web', 200000, 0, 1000, 5000, 'h1'),
           ('r3', '2025-03-03 09:00', 'us.anthropic.claude-3-haiku-20240307-v1:0', 'bob', 'api', 5000, 500, 0, 0, NULL),
           ('r4', '2025-03-03 09:30', 'claude-unknown-model', 'bob', 'api', 100, 10, 0, 0, NULL);
    INSERT INTO regress_api.result VALUES (label, 'ingest',
        claudecost.ingest('{"type": "assistant", "sessionId": "s2", "timestamp": "2025-03-06T12:00:00Z",
                            "message": {"id": "msg_regress_1", "model": "claude-3-haiku-20240307",
                                        "usage": {"input_tokens": 1000, "output_tokens": 100}}}',
                          user_id => 'carol', project_id => 'web')::text);
    INSERT INTO regress_api.result VALUES (label, 'ingest_replay',
        claudecost.ingest('{"type": "assistant", "sessionId": "s2", "timestamp": "2025-03-06T12:00:00Z",
                            "message": {"id": "msg_regress_1", "model": "claude-3-haiku-20240307",
                                        "usage": {"input_tokens": 1000, "output_tokens": 100}}}',
                          user_id => 'carol', project_id => 'web')::text);
    INSERT INTO regress_api.result VALUES (label, 'ingest_jsonl',
        claudecost.ingest('{"type": "assistant", "timestamp": "2025-03-06T13:00:00Z", "message": {"id": "msg_regress_2", "model": "regress-model", "usage": {"input_tokens": 10, "output_tokens": 20}}}
{"type": "assistant", "timestamp": "2025-03-06T13:01:00Z", "message": {"id": "msg_regress_3", "model": "regress-alias", "usage": {"input_tokens": 30, "output_tokens": 40}}}',
                          project_id => 'web')::text);
    INSERT INTO regress_api.result VALUES (label, 'ingest_lines',
        claudecost.ingest_lines('regress_api.staging', 'staging.jsonl', project_id => 'api')::text);
    INSERT INTO regress_api.result
    SELECT label, 'ingest_error', pg_catalog.string_agg(pg_catalog.concat_ws(' ', e.line_number, e.sqlstate), ',')
    FROM claudecost.ingest_error e;
    INSERT INTO regress_api.result VALUES (label, 'budget_check',
        claudecost.budget_check(1, project_id => 'web', as_of => '2025-03-15')::text);
    INSERT INTO regress_api.result VALUES (label, 'budget_check_tokens',
        claudecost.budget_check('regress-alias', 100000, 1000, project_id => 'web', as_of => '2025-03-15')::text);
    INSERT INTO regress_api.result VALUES (label, 'budget_reserve',
        claudecost.budget_reserve(project_id => 'api', estimated_cost => 0.25)::text);
    INSERT INTO regress_api.result VALUES (label, 'budget_reserve_2',
        claudecost.budget_reserve(project_id => 'api', estimated_cost => 0.5)::text);
    INSERT INTO claudecost.usage (request_id, occurred_at, model, project_id, input_tokens, reservation_id)
    VALUES ('r5', '2025-03-04 10:00', 'regress-model', 'api', 1000, 1);
    INSERT INTO regress_api.result VALUES (label, 'budget_release', claudecost.budget_release(2)::text);
    INSERT INTO regress_api.result
    SELECT label, 'reservations', pg_catalog.string_agg(pg_catalog.concat_ws(' ', r.id, r.status), ',' ORDER BY r.id)
    FROM claudecost.budget_reservation r;
    INSERT INTO regress_api.result VALUES (label, 'get_budget_status',
        claudecost.get_budget_status(1, '2025-03-15')::text);
    INSERT INTO regress_api.result VALUES (label, 'budget_forecast',
        claudecost.budget_forecast(1, as_of => '2025-03-15')::text);
    INSERT INTO regress_api.result
    SELECT label, 'budget_spend', pg_catalog.string_agg(pg_catalog.concat_ws(' ', s.budget_id, s.period_start, s.spent),
                                                        ',' ORDER BY s.budget_id, s.period_start)
    FROM claudecost.budget_spend s;

    -- Helpers that pin no search_path and qualify every operator instead.
    INSERT INTO regress_api.result VALUES (label, 'inlined_helpers', pg_catalog.concat_ws(' ',
        claudecost.budget_bucket('custom', '10 days', 'Europe/Berlin', '2025-01-01', '2025-03-15'),
        claudecost.budget_period_end('monthly', NULL, 'Europe/Berlin', '2025-01-01', '2025-02-28 23:00'),
        claudecost.budget_period_end('custom', '10 days', 'Europe/Berlin', '2025-01-01', '2025-03-12'),
        claudecost.budget_local_start('America/Havana', '2026-11-01 00:00'),
        claudecost.budget_local_origin('custom', '10 days', 'Europe/Berlin', '2025-01-01', '2025-03-15'),
        claudecost.budget_local_step('weekly', NULL),
        claudecost.budget_scope_matches(NULL, 'web', 'claude-%', NULL, 'team', 'u', 'web',
                                        'claude-3-haiku-20240307', 'k', '{team}'),
        claudecost.csv_field('a,"b"'), claudecost.html_escape('<a href="x">'), claudecost.report_color(10),
        claudecost.rollup_hour('2025-03-02 10:59:59+01'), claudecost.rollup_context_window(true),
        claudecost.usage_analytics_repeat(3, 100, 10, 1.5, 3)));

    -- Prices and tokens.
    INSERT INTO regress_api.result VALUES (label, 'cost',
        claudecost.cost('regress-alias', 1000, 1000, occurred_at => '2025-03-02')::text);
    INSERT INTO regress_api.result VALUES (label, 'resolve_model',
        claudecost.resolve_model('anthropic/claude-3.5-sonnet:beta'));
    INSERT INTO regress_api.result VALUES (label, 'token_count', claudecost.token_count('Hello, world!')::text);
    INSERT INTO regress_api.result VALUES (label, 'estimate_tokens',
        claudecost.estimate_tokens('Hello, world!', 'claude-sonnet-4-5')::text);
    INSERT INTO regress_api.result VALUES (label, 'estimate_prompt_cost',
        claudecost.estimate_prompt_cost('Hello, world!', 'claude-sonnet-4-5', 100)::text);
    INSERT INTO regress_api.result VALUES (label, 'optimize_prompt',
        claudecost.optimize_prompt('Please   kindly note that, in order to help, you should basically answer.')::text);
    INSERT INTO regress_api.result VALUES (label, 'record_prompt_optimization',
        claudecost.record_prompt_optimization('In order to answer, please   be brief.', 'regress-model',
                                              project_id => 'web')::text);

    -- Reports.
    INSERT INTO regress_api.result VALUES (label, 'generate_usage_report',
        claudecost.generate_usage_report('2025-03-01', '2025-04-01', 'Europe/Berlin')::text);
    INSERT INTO regress_api.result VALUES (label, 'export_csv',
        claudecost.export_usage_report('2025-03-01', '2025-04-01', 'csv'));
    INSERT INTO regress_api.result VALUES (label, 'report_html',
        pg_catalog.md5(claudecost.report_html('2025-03-01', '2025-03-08')));
    INSERT INTO regress_api.result VALUES (label, 'get_token_usage', claudecost.get_token_usage()::text);
    INSERT INTO regress_api.result VALUES (label, 'get_cost_breakdown', claudecost.get_cost_breakdown()::text);
    INSERT INTO regress_api.result
    SELECT label, 'cost_by_model', pg_catalog.string_agg(v::text, ',' ORDER BY v.model COLLATE pg_catalog."C")
    FROM claudecost.cost_by_model v;
    INSERT INTO regress_api.result
    SELECT label, 'daily_cost_by_project',
           pg_catalog.string_agg(v::text, ',' ORDER BY v.day, v.project_id COLLATE pg_catalog."C")
    FROM claudecost.daily_cost_by_project v;
    INSERT INTO regress_api.result
    SELECT label, 'unpriced_usage', pg_catalog.string_agg(v.request_id, ',' ORDER BY v.request_id COLLATE pg_catalog."C")
    FROM claudecost.unpriced_usage v;

    -- Admin: a price change, repricing, calibration, refreshed reports.
    INSERT INTO regress_api.result VALUES (label, 'add_price_change',
        claudecost.add_price('regress-model', 2, 10, effective_from => '2025-03-02 10:30')::text);
    INSERT INTO regress_api.result VALUES (label, 'reprice', claudecost.reprice()::text);
    INSERT INTO regress_api.result
    SELECT label, 'calibrate', pg_catalog.string_agg(c::text, ',')
    FROM claudecost.calibrate(min_samples => 1) c;
    PERFORM claudecost.refresh_reports();
    INSERT INTO regress_api.result
    SELECT label, 'monthly_cost_by_project',
           pg_catalog.string_agg(v::text, ',' ORDER BY v.month, v.project_id COLLATE pg_catalog."C")
    FROM claudecost.monthly_cost_by_project v;
    INSERT INTO regress_api.result
    SELECT label, 'usage', pg_catalog.string_agg(pg_catalog.concat_ws(' ', u.request_id, u.model, u.total_cost),
                                                 ',' ORDER BY u.request_id COLLATE pg_catalog."C")
    FROM claudecost.usage u;
    INSERT INTO regress_api.result
    SELECT label, 'usage_price_ids', pg_catalog.string_agg(pg_catalog.concat_ws(' ', u.request_id, u.price_id),
                                                           ',' ORDER BY u.request_id COLLATE pg_catalog."C")
    FROM claudecost.usage u;
    INSERT INTO regress_api.result
    SELECT label, 'verify_rollups', pg_catalog.count(*)::text FROM claudecost.verify_rollups();
    INSERT INTO regress_api.result
    SELECT label, 'verify_analytics_rollups', pg_catalog.count(*)::text FROM claudecost.verify_analytics_rollups();

    -- Security functions.
    INSERT INTO regress_api.result VALUES (label, 'grant_roles', claudecost.grant_roles()::text);
    PERFORM claudecost.enable_tenant_isolation();
    INSERT INTO regress_api.result VALUES (label, 'tenant_isolation_enabled',
        claudecost.tenant_isolation_enabled()::text);
    PERFORM claudecost.disable_tenant_isolation();
END
$run$;

-- The normal run.
SELECT regress_api.run('normal');

-- Objects planted ahead of pg_catalog.  Each one calls trap(), which counts
-- the call and raises.
CREATE SCHEMA regress_hostile;
CREATE SEQUENCE regress_hostile.calls;
CREATE FUNCTION regress_hostile.trap(what text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    PERFORM pg_catalog.nextval('regress_hostile.calls');
    RAISE EXCEPTION 'hostile % called', what;
END
$$;

-- Operators: name, left type, right type, result type.
DO $$
DECLARE
    o record;
    n integer := 0;
BEGIN
    FOR o IN SELECT * FROM (VALUES
        ('=', 'text', 'text', 'boolean'), ('<>', 'text', 'text', 'boolean'),
        ('=', 'bigint', 'bigint', 'boolean'), ('=', 'integer', 'integer', 'boolean'),
        ('<', 'integer', 'integer', 'boolean'), ('<=', 'bigint', 'bigint', 'boolean'),
        ('=', 'numeric', 'numeric', 'boolean'), ('<>', 'numeric', 'numeric', 'boolean'),
        ('>', 'numeric', 'numeric', 'boolean'), ('<', 'numeric', 'numeric', 'boolean'),
        ('>=', 'numeric', 'numeric', 'boolean'), ('<=', 'numeric', 'numeric', 'boolean'),
        ('+', 'numeric', 'numeric', 'numeric'), ('-', 'numeric', 'numeric', 'numeric'),
        ('*', 'numeric', 'numeric', 'numeric'), ('/', 'numeric', 'numeric', 'numeric'),
        ('+', 'bigint', 'bigint', 'bigint'), ('*', 'bigint', 'bigint', 'bigint'),
        ('=', 'timestamptz', 'timestamptz', 'boolean'), ('<', 'timestamptz', 'timestamptz', 'boolean'),
        ('>=', 'timestamptz', 'timestamptz', 'boolean'), ('>', 'timestamptz', 'timestamptz', 'boolean'),
        ('<=', 'timestamptz', 'timestamptz', 'boolean'),
        ('+', 'timestamptz', 'interval', 'timestamptz'), ('-', 'timestamptz', 'timestamptz', 'interval'),
        ('+', 'timestamp', 'interval', 'timestamp'), ('*', 'interval', 'double precision', 'interval'),
        ('~~', 'text', 'text', 'boolean'), ('~', 'text', 'text', 'boolean'),
        ('||', 'text', 'text', 'text'), ('@>', 'jsonb', 'jsonb', 'boolean'),
        ('->>', 'jsonb', 'text', 'text'), ('->', 'jsonb', 'text', 'jsonb'),
        ('||', 'jsonb', 'jsonb', 'jsonb'), ('=', 'boolean', 'boolean', 'boolean')
    ) AS v(name, l, r, result)
    LOOP
        n := n + 1;
        EXECUTE format('CREATE FUNCTION regress_hostile.op_%s(%s, %s) RETURNS %s
                        LANGUAGE plpgsql SET search_path = pg_catalog
                        AS $f$ BEGIN PERFORM regress_hostile.trap(%L); RETURN NULL; END $f$',
                       n, o.l, o.r, o.result, format('operator %s(%s, %s)', o.name, o.l, o.r));
        EXECUTE format('CREATE OPERATOR regress_hostile.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = regress_hostile.op_%s)',
                       o.name, o.l, o.r, n);
    END LOOP;
END
$$;

-- Functions: name, arguments, result type.
DO $$
DECLARE
    f record;
BEGIN
    FOR f IN SELECT * FROM (VALUES
        ('lower', 'text', 'text'), ('upper', 'text', 'text'), ('now', '', 'timestamptz'),
        ('clock_timestamp', '', 'timestamptz'), ('date_trunc', 'text, timestamptz', 'timestamptz'),
        ('date_trunc', 'text, timestamptz, text', 'timestamptz'), ('timezone', 'text, timestamptz', 'timestamp'),
        ('round', 'numeric, integer', 'numeric'), ('round', 'numeric', 'numeric'),
        ('floor', 'numeric', 'numeric'), ('trim_scale', 'numeric', 'numeric'),
        ('replace', 'text, text, text', 'text'), ('length', 'text', 'integer'),
        ('cardinality', 'anyarray', 'integer'), ('pg_notify', 'text, text', 'void'),
        ('md5', 'text', 'text'), ('sha256', 'bytea', 'bytea'), ('to_char', 'timestamptz, text', 'text'),
        ('jsonb_array_length', 'jsonb', 'integer'), ('current_setting', 'text', 'text')
    ) AS v(name, args, result)
    LOOP
        EXECUTE format('CREATE FUNCTION regress_hostile.%I(%s) RETURNS %s
                        LANGUAGE plpgsql SET search_path = pg_catalog
                        AS $f$ BEGIN PERFORM regress_hostile.trap(%L); RETURN %s; END $f$',
                       f.name, f.args, f.result, format('function %s(%s)', f.name, f.args),
                       CASE WHEN f.result = 'void' THEN '' ELSE 'NULL' END);
    END LOOP;
END
$$;
CREATE FUNCTION regress_hostile.unnest(anyarray) RETURNS SETOF anyelement
LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM regress_hostile.trap('function unnest(anyarray)'); END $$;

-- Aggregates.
CREATE FUNCTION regress_hostile.numeric_step(numeric, numeric) RETURNS numeric
LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM regress_hostile.trap('aggregate sum(numeric)'); RETURN NULL; END $$;
CREATE AGGREGATE regress_hostile.sum(numeric) (SFUNC = regress_hostile.numeric_step, STYPE = numeric);
CREATE FUNCTION regress_hostile.count_step(bigint) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM regress_hostile.trap('aggregate count(*)'); RETURN NULL; END $$;
CREATE AGGREGATE regress_hostile.count(*) (SFUNC = regress_hostile.count_step, STYPE = bigint);
CREATE FUNCTION regress_hostile.bigint_step(bigint, bigint) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN PERFORM regress_hostile.trap('aggregate sum(bigint)'); RETURN NULL; END $$;
CREATE AGGREGATE regress_hostile.sum(bigint) (SFUNC = regress_hostile.bigint_step, STYPE = bigint);

-- Tables named like the extension's, in the hostile schema.
CREATE TABLE regress_hostile.usage (id bigint);
CREATE TABLE regress_hostile.price (id bigint);
CREATE TABLE regress_hostile.budget (id bigint);
CREATE TABLE regress_hostile.model_alias (alias text);

SELECT count(*) AS planted_operators FROM pg_catalog.pg_operator WHERE oprnamespace = 'regress_hostile'::regnamespace;

-- Controls: the planted objects capture unqualified names, and a function
-- of the extension whose search_path is not pinned is caught.
SET search_path = regress_hostile, pg_catalog;
SELECT 'a'::text = 'a'::text;
SELECT lower('A');
SELECT sum(x) FROM (VALUES (1.5)) v(x);
ALTER FUNCTION claudecost.add_price(text, numeric, numeric, numeric, numeric, numeric, timestamptz, text,
                                    bigint, numeric, numeric, numeric, numeric, numeric, text, text)
    RESET search_path;
SELECT claudecost.add_price('regress-control', 1, 2);
ALTER FUNCTION claudecost.add_price(text, numeric, numeric, numeric, numeric, numeric, timestamptz, text,
                                    bigint, numeric, numeric, numeric, numeric, numeric, text, text)
    SET search_path = pg_catalog, pg_temp;
RESET search_path;
SELECT last_value > 0 AS controls_were_caught FROM regress_hostile.calls;
SELECT setval('regress_hostile.calls', 1, false);

-- The hostile run: a fresh install and a new session, so that every cache
-- of prices, budgets and rules is loaded and every plan is made with the
-- hostile search_path.  Temporary tables named like the extension's are
-- looked up first for unqualified table names, unless search_path puts
-- pg_temp last.
SET client_min_messages = warning;
DROP EXTENSION claudecost CASCADE;
RESET client_min_messages;
-- The install script names every table with its schema: temporary tables
-- named like the extension's do not capture its views and functions.
CREATE TEMP TABLE usage (id bigint);
CREATE TEMP TABLE usage_hourly (id bigint);
CREATE TEMP TABLE price (id bigint);
CREATE TEMP TABLE model_alias (id bigint);
CREATE TEMP TABLE budget (id bigint);
CREATE TEMP TABLE budget_spend (id bigint);
CREATE TEMP TABLE exchange_rate (id bigint);
CREATE TEMP TABLE usage_analytics_daily (id bigint);
CREATE EXTENSION claudecost;
SELECT count(*) AS objects_using_temporary_tables
FROM pg_catalog.pg_depend d
JOIN pg_catalog.pg_class c ON c.oid = d.refobjid AND d.refclassid = 'pg_catalog.pg_class'::regclass
WHERE c.relnamespace = pg_catalog.pg_my_temp_schema() AND d.deptype = 'n';
\c -
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
CREATE TEMP TABLE usage (id bigint);
CREATE TEMP TABLE price (id bigint);
CREATE TEMP TABLE budget (id bigint);
CREATE TEMP TABLE budget_spend (budget_id bigint);
SET search_path = regress_hostile, pg_catalog;
SELECT regress_api.run('hostile');
RESET search_path;

-- No planted object was ever called.
SELECT is_called AS hostile_object_called FROM regress_hostile.calls;

-- Every step gave the same result on both runs.
SELECT count(*) FILTER (WHERE run = 'normal') AS normal_steps,
       count(*) FILTER (WHERE run = 'hostile') AS hostile_steps
FROM regress_api.result;
SELECT coalesce(n.step, h.step) AS differing_step, n.result AS normal, h.result AS hostile
FROM (SELECT * FROM regress_api.result WHERE run = 'normal') n
FULL JOIN (SELECT * FROM regress_api.result WHERE run = 'hostile') h ON h.step = n.step
WHERE n.result IS DISTINCT FROM h.result;

-- The results themselves, except long documents, ids of price rows (they
-- depend on the shipped catalog) and the roles that exist in the cluster.
SELECT step, result FROM regress_api.result WHERE run = 'normal'
  AND step NOT IN ('generate_usage_report', 'get_token_usage', 'get_cost_breakdown', 'export_csv',
                   'estimate_prompt_cost', 'optimize_prompt', 'record_prompt_optimization', 'calibrate',
                   'budget_forecast', 'get_budget_status', 'report_html', 'add_price', 'add_price_change',
                   'usage_price_ids', 'grant_roles');
SELECT (result::jsonb)->>'total_requests' AS report_requests, (result::jsonb)->>'total_cost' AS report_cost
FROM regress_api.result WHERE run = 'normal' AND step = 'generate_usage_report';

SET client_min_messages = warning;
DROP SCHEMA regress_hostile CASCADE;
DROP SCHEMA regress_api CASCADE;
RESET client_min_messages;
