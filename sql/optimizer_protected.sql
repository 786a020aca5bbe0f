-- Prompt optimizer: protected regions come back byte-identical, and English
-- rules never edit non-English text.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;

-- A deliberately destructive rule that deletes these words anywhere, even
-- inside identifiers, so that any unprotected occurrence would be changed.
INSERT INTO claudecost.optimizer_rule (rule_type, priority, pattern, replacement, description)
VALUES ('remove_filler', 1, '(?i)(?:just|very|basically|example|order|really|please)[ _-]?', '',
        'test rule: delete rule words anywhere');

-- Each case has filler text around a region full of words that the rules
-- rewrite outside it.  The region must appear unchanged in the optimized
-- text while the surrounding text is optimized.
CREATE TEMP TABLE protected_case (name text PRIMARY KEY, region text NOT NULL, prompt text NOT NULL);
INSERT INTO protected_case (name, region, prompt)
SELECT name, region, E'Please just   read this, in order to basically understand it:\n' || region
       || E'\nIt is very important to note that this is just an example.'
FROM (VALUES
    ('fenced python', E'```python\ndef just_very(x):\n    # just  very  simple, in order to test\n    """Really, very basically nothing."""\n    return  x  # for example\n```'),
    ('fenced tilde', E'~~~\nPlease   just    keep.\n~~~'),
    ('inline code', '`grep  -r  "just  very"  .`'),
    ('url', 'https://example.com/docs/for%20example/in-order-to?q=just+very&really=1#for-example'),
    ('url for_example path', 'https://docs.example.com/guide/for_example/in_order_to.html?very=just'),
    ('url in parentheses', 'https://en.wikipedia.org/wiki/Just_(band)'),
    ('url www', 'www.example.org/very/just/basically'),
    ('unix path', '/home/user/just_very/in-order-to/basically.txt'),
    ('relative path', './src/very/basically/in_order_to.py'),
    ('home path', '~/.config/just-very/example'),
    ('windows path', 'C:\Users\Just\Very\Basically\file.txt'),
    ('file name', 'just_very_basically.md'),
    ('json object', '{"note": "Please just   read the documentation, in order to basically understand it.", "n": [1, 2]}'),
    ('json array', '["just  very", "in order to", "for example"]'),
    ('xml document', E'<document index="1" source="in order to.txt">\nPlease just   read this. It is very, very important.\nIn order to win, basically try.\n</document>'),
    ('xml nested data', '<documents><document>just very</document><document>really   basically</document></documents>'),
    ('xml attributes', '<instructions lang="just very" note=''in order to''>'),
    ('xml comment', '<!-- just   very   basically -->'),
    ('double quotes', '"Please just   do it, in order to basically win."'),
    ('curly quotes', '“Please just do it, in order to win.”'),
    ('single quotes', '''just   very basically'''),
    ('german quotes', '„Bitte just very basically“'),
    ('japanese quotes', '「just very basically」'),
    ('email', 'just.very@basically.example.com')
) AS c(name, region);

SELECT c.name,
       strpos(r->>'optimized_text', c.region) > 0 AS region_unchanged,
       (r->>'optimized_tokens')::int < (r->>'estimated_tokens')::int AS rest_optimized
FROM protected_case c, claudecost.optimize_prompt(c.prompt) AS r
ORDER BY c.name COLLATE "C";

-- The regions that were found, with their kinds.
SELECT c.name, p.kind, p.region = c.region AS whole_region
FROM protected_case c, claudecost.protected_regions(c.prompt) AS p
ORDER BY c.name COLLATE "C", p.kind COLLATE "C";

-- The fenced Python function and the XML document, whole.
SELECT name, claudecost.optimize_prompt(prompt)->>'optimized_text' AS optimized_text
FROM protected_case WHERE name IN ('fenced python', 'xml document')
ORDER BY name COLLATE "C";

DELETE FROM claudecost.optimizer_rule WHERE description LIKE 'test rule:%';

-- Pretty-printed JSON is compacted, but every value stays byte-identical.
SELECT r->>'optimized_text' AS optimized_text,
       substring(r->>'optimized_text' FROM '\{.*\}')::jsonb
           = '{"note": "Please just   read the documentation, in order to basically understand it.", "tags": ["just  very", "for example"], "n": 1.50}'::jsonb
           AS same_value,
       strpos(r->>'optimized_text', '1.50') > 0 AS number_text_kept
FROM claudecost.optimize_prompt(E'Basically, use this:\n{\n  "note": "Please just   read the documentation, in order to basically understand it.",\n  "tags": [\n    "just  very",\n    "for example"\n  ],\n  "n": 1.50\n}\n') AS r;

-- Text that only looks like JSON or a tag is not protected.
SELECT kind, region FROM claudecost.protected_regions(
    'a < b and c > d, [link](x), [x] done, {not json}, don''t, the users'' files, 5" long') AS p
ORDER BY region COLLATE "C";

-- Instructions inside a non-data element are optimized; the tags are kept.
SELECT claudecost.optimize_prompt(
    E'<instructions>\nIn order to help, please just answer.\n</instructions>')->>'optimized_text' AS optimized_text;

-- An unclosed fence protects to the end of the prompt.
SELECT claudecost.optimize_prompt(E'Just look:\n```\njust   very\nin order to')->>'optimized_text' AS optimized_text;

-- Non-English text: German and Japanese words that contain English rule
-- words (Justiz, Information, justieren, Verywell) or sit next to them
-- without a space are never edited.
CREATE TEMP TABLE foreign_text (name text PRIMARY KEY, body text NOT NULL);
INSERT INTO foreign_text VALUES
    ('german', 'Die Justizministerin erklärte: Die Konfigurationsdatei muss sehr genau justiert werden. Verywell-Tests laufen täglich; „Justiz“ ist kein Füllwort. Zum Beispiel Informationsblätter, Dokumentationspflicht und Repositorybeschreibung.'),
    ('japanese', 'これはjustテストです。ドキュメンテーション（documentationではない）を読んでください。とても重要です。例えば、設定を確認してください。veryの使い方。'),
    ('japanese spaces', 'これは　　テスト　　です。'),
    ('german with english', E'Bitte lesen Sie die Datei. In order to test: ganz  einfach.\nDas Justizministerium basically prüft alles.');

SELECT name,
       r->>'optimized_text' AS optimized_text,
       (SELECT string_agg(s->>'original_segment' || ' -> ' || (s->>'suggested_segment'), ' | '
                          ORDER BY s->>'original_segment' COLLATE "C")
        FROM jsonb_array_elements(r->'optimization_suggestions') s) AS edits
FROM foreign_text, claudecost.optimize_prompt(body) AS r
ORDER BY name COLLATE "C";

-- Every word of the non-English prompts survives: no word is cut or changed
-- unless a whole English phrase was rewritten.
SELECT name,
       (SELECT count(*) FROM regexp_split_to_table(body, '\s+') w
        WHERE strpos(r->>'optimized_text', w) = 0) AS words_lost
FROM foreign_text, claudecost.optimize_prompt(body) AS r
WHERE name IN ('german', 'japanese', 'japanese spaces')
ORDER BY name COLLATE "C";
