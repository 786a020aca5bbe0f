-- Filler and intensifier rules keep the meaning: no removal before a number
-- or quantity, after a determiner where the word is an adjective, when the
-- word is mentioned as a word, or inside a repeated intensifier.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;

CREATE TEMP TABLE meaning (name text PRIMARY KEY, body text NOT NULL);
INSERT INTO meaning VALUES
    ('number digit', 'He was just 5 years old.'),
    ('number word', 'He was just five.'),
    ('quantity', 'It is just a few lines, basically 3 of them.'),
    ('currency', 'It costs just $5.'),
    ('adjective the', 'The just man.'),
    ('adjective a', 'A just cause needs a very careful plan.'),
    ('mention word', 'The word basically is the key.'),
    ('mention term', 'The term just is an adverb.'),
    ('mention quoted', 'Use "just" and ''really'' sparingly.'),
    ('pair comma', 'This is really, really good.'),
    ('pair very', 'A very, very small thing.'),
    ('pair no comma', 'It is very very small.'),
    ('triple', 'It is very, very, very small.'),
    -- Still rewritten: the plain fillers and intensifiers.
    ('plain intensifier', 'This is really good.'),
    ('plain filler', 'Basically, read it first.'),
    ('two different', 'I just want it truly done.');

SELECT name, claudecost.optimize_prompt(body)->>'optimized_text' AS optimized_text
FROM meaning ORDER BY name COLLATE "C";

-- Savings add up and the output is a fixed point in every encoding.
SELECT m.name, e.encoding,
       coalesce((SELECT sum((s->>'token_savings')::int)
                 FROM jsonb_array_elements(r->'optimization_suggestions') s), 0)
           = (r->>'estimated_tokens')::int - (r->>'optimized_tokens')::int AS savings_add_up,
       claudecost.optimize_prompt(r->>'optimized_text', e.encoding)->>'optimized_text'
           = r->>'optimized_text' AS idempotent
FROM meaning m,
     unnest(ARRAY['cl100k_base', 'o200k_base', 'claude_legacy']) AS e(encoding),
     LATERAL (SELECT claudecost.optimize_prompt(m.body, e.encoding) AS r) x
ORDER BY m.name COLLATE "C", e.encoding COLLATE "C";
