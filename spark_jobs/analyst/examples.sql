-- Example questions analysts ask of the corpus. The README quotes these blocks, the tests run
-- them against tables built by the sample pipeline, and bench/sql_queries.py times them.
-- Run one with `pilehouse sql --example NAME [--param name=value]`.
-- "words" is quality_signals.word_count: the number of spaCy English tokens that are not only
-- punctuation. Curated tables hold words and UTF-8 bytes; language-model tokens are counted
-- per mixture, with its tokenizer (mixtures.<name>.token_count).

-- name: words_by_license
-- Curated documents, words and bytes per license.
SELECT license, count(*) AS documents, sum(quality_signals.word_count) AS words,
       sum(byte_length) AS bytes
FROM curated.web
GROUP BY license
ORDER BY words DESC, license;

-- name: words_by_source_language_license
-- Curated documents, words and bytes per source, language and license.
SELECT source, language, license, count(*) AS documents,
       sum(quality_signals.word_count) AS words, sum(byte_length) AS bytes
FROM curated.web
GROUP BY source, language, license
ORDER BY words DESC, source, language, license;

-- name: removal_reasons
-- Why documents were removed: removals by stage and reason.
SELECT stage, reason, count(*) AS documents
FROM rejects
GROUP BY stage, reason
ORDER BY documents DESC, stage, reason;

-- name: document_lineage
-- Every table one document (by URL) reached, and why it was removed if it was.
-- A URL fetched more than once shows one row per fetch.
SELECT 1 AS step, 'raw.web' AS in_table, id, CAST(NULL AS STRING) AS stage,
       CAST(NULL AS STRING) AS reason, warc_file AS detail
FROM raw.web WHERE url = $url
UNION ALL
SELECT 2, 'annotated.web', id, NULL, NULL, concat('language=', language)
FROM annotated.web WHERE url = $url
UNION ALL
SELECT 3, 'curated.web', id, NULL, NULL, NULL
FROM curated.web WHERE url = $url
UNION ALL
SELECT 4, 'rejects', id, stage, reason, detail
FROM rejects WHERE split_part(locator, '#', 1) = $url
UNION ALL
SELECT 5, 'quarantine', id, stage, reason, detail
FROM quarantine WHERE split_part(locator, '#', 1) = $url
ORDER BY step, id;

-- name: mix_change_since_v0
-- How the curated mix moved since the table's first version (time travel): words per domain.
WITH before AS (
  SELECT domain, sum(quality_signals.word_count) AS words FROM curated.web@v0 GROUP BY domain
), now AS (
  SELECT domain, sum(quality_signals.word_count) AS words FROM curated.web GROUP BY domain
)
SELECT coalesce(now.domain, before.domain) AS domain, coalesce(before.words, 0) AS words_v0,
       coalesce(now.words, 0) AS words_now
FROM now FULL OUTER JOIN before ON now.domain = before.domain
ORDER BY words_now DESC, domain;

-- name: curated_history
-- Which runs wrote curated.web, with which recipe, and how many rows each version holds.
SELECT version, committed_at, recipe, recipe_hash, rows, dagster_run_id, inputs
FROM history('curated.web')
ORDER BY version;
