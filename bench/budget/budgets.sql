-- Budgets and price used by the budget benchmarks: a global monthly budget,
-- ten project budgets (daily, in Europe/Berlin), a user budget, a model
-- pattern budget and a rolling 24 hour window.  A check for project p1 and
-- user u1 binds five of them.
INSERT INTO claudecost.price (model, input_per_mtok, output_per_mtok, effective_from)
VALUES ('bench-model', 1, 1, '2000-01-01');
SELECT claudecost.create_budget('global', 1000000000, 'monthly', starts_at => '2020-01-01');
SELECT claudecost.create_budget('project p' || i, 100000000, 'daily', project_id => 'p' || i,
                                time_zone => 'Europe/Berlin', starts_at => '2020-01-01')
  FROM generate_series(1, 10) i;
SELECT claudecost.create_budget('user u1', 100000000, 'weekly', user_id => 'u1', starts_at => '2020-01-01');
SELECT claudecost.create_budget('bench models', 100000000, 'quarterly', model => 'bench-%', starts_at => '2020-01-01');
SELECT claudecost.create_budget('rolling day', 100000000, 'rolling', period_length => '24 hours',
                                starts_at => '2020-01-01');
