-- Budget events, reservations, status and forecast.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;
SET TimeZone = 'UTC';
\set SHOW_CONTEXT never

INSERT INTO claudecost.price (model, input_per_mtok, output_per_mtok, effective_from)
VALUES ('regress-model', 1, 1, '2000-01-01');

-- Records one usage row of cost USD and returns its cost.
CREATE FUNCTION pg_temp.spend(cost numeric, at timestamptz, project text DEFAULT NULL,
                              reservation bigint DEFAULT NULL)
RETURNS numeric LANGUAGE sql AS $$
INSERT INTO claudecost.usage (occurred_at, model, project_id, input_tokens, reservation_id)
VALUES (at, 'regress-model', project, (cost * 1000000)::bigint, reservation)
RETURNING total_cost
$$;

CREATE VIEW pg_temp.events AS
SELECT b.name, e.period_start, e.threshold, e.kind, e.spent_amount, e.budget_amount, e.currency
  FROM claudecost.budget_event e JOIN claudecost.budget b ON b.id = e.budget_id;

--
-- Thresholds crossed one at a time
--
SELECT claudecost.create_budget('steps', 10, 'monthly', project_id => 'steps', warn_at => '{0.8,0.5}',
                                starts_at => '2026-01-01') AS steps \gset
SELECT warn_at FROM claudecost.budget WHERE id = :steps;
SELECT pg_temp.spend(4, '2026-03-02', 'steps');
SELECT count(*) AS events FROM claudecost.budget_event;
SELECT pg_temp.spend(1, '2026-03-03', 'steps');
SELECT * FROM pg_temp.events ORDER BY threshold;
SELECT pg_temp.spend(2.999999, '2026-03-04', 'steps');
SELECT count(*) AS events FROM claudecost.budget_event;
SELECT pg_temp.spend(0.000001, '2026-03-04', 'steps');
SELECT * FROM pg_temp.events ORDER BY threshold;
SELECT pg_temp.spend(2, '2026-03-05', 'steps');
SELECT * FROM pg_temp.events ORDER BY threshold;
-- Never twice: more spend, or spend removed and added again, adds no event.
SELECT pg_temp.spend(5, '2026-03-06', 'steps');
DELETE FROM claudecost.usage WHERE project_id = 'steps';
SELECT pg_temp.spend(20, '2026-03-07', 'steps');
SELECT count(*) AS events FROM claudecost.budget_event;
-- The next period starts over.
SELECT pg_temp.spend(6, '2026-04-01', 'steps');
SELECT * FROM pg_temp.events WHERE period_start >= '2026-04-01' ORDER BY threshold;

--
-- Several thresholds crossed by one insert, and by one multi-row statement
--
SELECT claudecost.create_budget('jump', 10, 'daily', project_id => 'jump', warn_at => '{0.25,0.5,0.75}',
                                starts_at => '2026-01-01') AS jump \gset
SELECT pg_temp.spend(8, '2026-03-02 10:00', 'jump');
SELECT threshold, kind, spent_amount FROM pg_temp.events WHERE name = 'jump' ORDER BY threshold;
INSERT INTO claudecost.usage (occurred_at, model, project_id, input_tokens)
SELECT '2026-03-03 10:00', 'regress-model', 'jump', 3000000 FROM generate_series(1, 4);
SELECT period_start, threshold, kind, spent_amount FROM pg_temp.events WHERE name = 'jump'
 ORDER BY period_start, threshold;

-- A rolled-back spend writes no event.
BEGIN;
SELECT pg_temp.spend(10, '2026-03-04 10:00', 'jump');
SELECT count(*) AS events_inside FROM claudecost.budget_event WHERE period_start = '2026-03-04';
ROLLBACK;
SELECT count(*) AS events_after FROM claudecost.budget_event WHERE period_start = '2026-03-04';

-- A disabled budget writes no event; a repriced row is counted like any update.
SELECT claudecost.disable_budget(:jump);
SELECT pg_temp.spend(10, '2026-03-05 10:00', 'jump');
SELECT count(*) AS events FROM claudecost.budget_event WHERE period_start = '2026-03-05';
SELECT claudecost.update_budget(:jump, enabled => true);
UPDATE claudecost.price SET input_per_mtok = 2 WHERE model = 'regress-model';
UPDATE claudecost.usage SET input_tokens = input_tokens WHERE project_id = 'jump';
SELECT s.period_start, s.spent FROM claudecost.budget_spend s WHERE s.budget_id = :jump ORDER BY 1;
UPDATE claudecost.price SET input_per_mtok = 1 WHERE model = 'regress-model';
UPDATE claudecost.usage SET input_tokens = input_tokens WHERE project_id = 'jump';
SELECT s.period_start, s.spent FROM claudecost.budget_spend s WHERE s.budget_id = :jump ORDER BY 1;

-- Rolling windows: a threshold fires again only after a whole window.
SELECT claudecost.create_budget('window', 10, 'rolling', project_id => 'win', period_length => '2 hours',
                                warn_at => '{}', starts_at => '2026-01-01') AS win \gset
SELECT pg_temp.spend(10, '2026-03-02 10:15', 'win');
SELECT pg_temp.spend(1, '2026-03-02 11:15', 'win');
SELECT pg_temp.spend(10, '2026-03-02 13:15', 'win');
SELECT period_start, threshold, spent_amount FROM pg_temp.events WHERE name = 'window' ORDER BY period_start;

--
-- Status, view and forecast
--
SELECT claudecost.get_budget_status(:steps, '2026-03-20');
SELECT claudecost.get_budget_status(:steps, '2026-04-10');
SELECT claudecost.get_budget_status(:steps, '2026-05-10');
SELECT claudecost.get_budget_status(999999);
SELECT budget_name, budget_amount, enabled, hard_limit, currency FROM claudecost.budget_status
 ORDER BY budget_name COLLATE "C";
-- 6 USD in the first 9 days of April: 0.667 per day, 21 days left.
SELECT claudecost.budget_forecast(:steps, as_of => '2026-04-10');
SELECT claudecost.budget_forecast(:steps, 5, '2026-04-10');
-- Zero-spend days count: the same 6 USD ten days later is a lower rate.
SELECT claudecost.budget_forecast(:steps, as_of => '2026-04-20') ->> 'daily_rate' AS daily_rate,
       claudecost.budget_forecast(:steps, as_of => '2026-04-20') ->> 'will_exceed' AS will_exceed;
SELECT claudecost.budget_forecast(:steps, -1, '2026-04-10');
SELECT claudecost.budget_forecast(999999);

--
-- Reservations (real clock)
--
DELETE FROM claudecost.budget;
DELETE FROM claudecost.usage;
SELECT claudecost.create_budget('hold', 10, 'annual', project_id => 'hold', warn_at => '{}') AS hold \gset
SELECT claudecost.create_budget('hold soft', 1, 'annual', project_id => 'hold', hard_limit => false,
                                warn_at => '{}') AS soft \gset
SELECT claudecost.budget_reserve(project_id => 'hold', estimated_cost => 4) AS r1 \gset
SELECT claudecost.budget_reserve(project_id => 'hold', estimated_cost => 5) AS r2 \gset
SELECT budget_name, spent_amount, reserved_amount, remaining_amount FROM claudecost.budget_status
 ORDER BY budget_name COLLATE "C";
SELECT action, reserved, remaining FROM claudecost.budget_check(1, project_id => 'hold');
-- Holds belong to the period of the real clock, not to a past one.
SELECT (claudecost.get_budget_status(:hold, now() - interval '2 years') ->> 'reserved_amount')::numeric
       AS reserved_in_past_period;
SELECT action, reserved, remaining FROM claudecost.budget_check(1.01, project_id => 'hold');
-- The hard budget cannot hold more than 1: CC001 with the figures and the fix.
SELECT claudecost.budget_reserve(project_id => 'hold', estimated_cost => 1.01);
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
-- Settling: the usage row replaces the 4 USD hold with its real 3 USD.
SELECT pg_temp.spend(3, now(), 'hold', :r1);
SELECT status FROM claudecost.budget_reservation WHERE id = :r1;
SELECT budget_name, spent_amount, reserved_amount, remaining_amount FROM claudecost.budget_status
 WHERE budget_name = 'hold';
-- A settled reservation cannot be released; a held one can, once.
SELECT claudecost.budget_release(:r1) AS released_settled;
SELECT claudecost.budget_release(:r2) AS released;
SELECT claudecost.budget_release(:r2) AS released_again;
SELECT claudecost.budget_release(999999) AS released_missing;
SELECT budget_name, spent_amount, reserved_amount, remaining_amount FROM claudecost.budget_status
 WHERE budget_name = 'hold';
SELECT claudecost.budget_reserve(project_id => 'hold', estimated_cost => 7) AS r3 \gset
SELECT claudecost.budget_reserve(project_id => 'hold', estimated_cost => 0.5);
-- Expiry: a hold stops counting when its ttl has passed, with no job.
SELECT claudecost.budget_release(:r3);
SELECT claudecost.budget_reserve(project_id => 'hold', estimated_cost => 7, ttl => '2 seconds') AS r4 \gset
SELECT (claudecost.get_budget_status(:hold) ->> 'reserved_amount')::numeric AS reserved_before;
SELECT pg_sleep(2.2);
SELECT (claudecost.get_budget_status(:hold) ->> 'reserved_amount')::numeric AS reserved_after;
SELECT claudecost.budget_reserve(project_id => 'hold', estimated_cost => 7) AS r5 \gset
SELECT count(*) AS expired_holds_left FROM claudecost.budget_hold WHERE reservation_id = :r4;
-- A late usage row still settles its expired reservation.
SELECT claudecost.budget_release(:r5);
SELECT pg_temp.spend(1, now(), 'hold', :r4);
SELECT status FROM claudecost.budget_reservation WHERE id = :r4;
-- An UPDATE that sets reservation_id settles too.
SELECT claudecost.budget_reserve(project_id => 'hold', estimated_cost => 1) AS r6 \gset
SELECT pg_temp.spend(0.5, now(), 'hold');
UPDATE claudecost.usage SET reservation_id = :r6 WHERE reservation_id IS NULL AND project_id = 'hold';
SELECT status FROM claudecost.budget_reservation WHERE id = :r6;
SELECT (claudecost.get_budget_status(:hold) ->> 'reserved_amount')::numeric AS reserved_after_update;
-- Invalid reservations.
SELECT claudecost.budget_reserve(project_id => 'hold');
SELECT claudecost.budget_reserve(project_id => 'hold', estimated_cost => -1);
SELECT claudecost.budget_reserve(project_id => 'hold', estimated_cost => 1, ttl => '0');
-- Outside every budget a reservation reserves nothing and always succeeds.
SELECT claudecost.budget_reserve(project_id => 'elsewhere', estimated_cost => 1000) > 0 AS reserved;

-- TRUNCATE of usage zeroes every counter.
SELECT pg_temp.spend(2, now(), 'hold');
SELECT count(*) > 0 AS counters_before FROM claudecost.budget_spend;
TRUNCATE claudecost.usage;
SELECT count(*) AS counters_after FROM claudecost.budget_spend;
SELECT (claudecost.get_budget_status(:hold) ->> 'spent_amount')::numeric AS spent_after;
