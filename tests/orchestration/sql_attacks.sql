-- Attacks on analysts' read-only SQL (issue 15), and reads that must keep working.
--
-- Each entry starts with a header line, `-- refuse: NAME` (must raise ReadOnlyError and change
-- nothing) or `-- allow: NAME` (must run), and its SQL runs to the next header, `;` and
-- comments included. `$LAKE` is replaced by the test lake's root. Relative file names land
-- in the working directory, which the tests check for new files.
-- Used by tests/orchestration/test_sql_attacks.py and bench/faults_sql.py.

-- refuse: EXPLAIN ANALYZE runs a CREATE TABLE
EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1
-- refuse: EXPLAIN ANALYZE replaces a lake view
EXPLAIN ANALYZE CREATE OR REPLACE VIEW curated.web AS SELECT 'fake' AS id, 'fake' AS text
-- refuse: EXPLAIN ANALYZE shadows a view with a temp view
EXPLAIN ANALYZE CREATE OR REPLACE TEMP VIEW rejects AS SELECT 'fake' AS reason
-- refuse: EXPLAIN ANALYZE of INSERT
EXPLAIN ANALYZE INSERT INTO t VALUES (1)
-- refuse: EXPLAIN ANALYZE of DROP VIEW
EXPLAIN ANALYZE DROP VIEW curated.web
-- refuse: EXPLAIN ANALYZE of COPY TO a local file
EXPLAIN ANALYZE COPY (SELECT * FROM curated.web) TO 'stolen.csv'
-- refuse: EXPLAIN ANALYZE of COPY into the lake
EXPLAIN ANALYZE COPY (SELECT 'fake' AS text) TO '$LAKE/curated/web/evil.parquet' (FORMAT parquet)
-- refuse: EXPLAIN ANALYZE of DELETE
EXPLAIN ANALYZE DELETE FROM curated.web
-- refuse: EXPLAIN ANALYZE of UPDATE
EXPLAIN ANALYZE UPDATE curated.web SET text = 'fake'
-- refuse: EXPLAIN ANALYZE of ATTACH
EXPLAIN ANALYZE ATTACH 'evil.db' AS evil
-- refuse: EXPLAIN of CREATE (planned, not run, still refused)
EXPLAIN CREATE TABLE t AS SELECT 1
-- refuse: EXPLAIN ANALYSE spelling
EXPLAIN ANALYSE CREATE TABLE t AS SELECT 1
-- refuse: lower-case explain analyze
explain analyze create or replace view curated.web as select 'fake' as text
-- refuse: comment between EXPLAIN and ANALYZE
EXPLAIN /* harmless */ ANALYZE CREATE TABLE t AS SELECT 1
-- refuse: EXPLAIN with an option list
EXPLAIN (ANALYZE) CREATE TABLE t AS SELECT 1
-- refuse: EXPLAIN with FORMAT and ANALYZE options
EXPLAIN (FORMAT json, ANALYZE) CREATE VIEW v AS SELECT 1
-- refuse: EXPLAIN ANALYZE of a CTE feeding INSERT
EXPLAIN ANALYZE WITH x AS (SELECT 1 AS a) INSERT INTO t SELECT a FROM x
-- refuse: EXPLAIN ANALYZE of SET
EXPLAIN ANALYZE SET enable_external_access = true
-- refuse: EXPLAIN ANALYZE of CREATE MACRO
EXPLAIN ANALYZE CREATE MACRO m() AS 1
-- refuse: EXPLAIN ANALYZE of a file read
EXPLAIN ANALYZE SELECT * FROM read_csv('/etc/passwd')
-- refuse: EXPLAIN of a file read
EXPLAIN SELECT * FROM read_text('/etc/passwd')
-- refuse: EXPLAIN inside EXPLAIN
EXPLAIN EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1
-- refuse: EXPLAIN ANALYZE with nothing to explain
EXPLAIN ANALYZE
-- refuse: CTE feeding INSERT
WITH x AS (SELECT 1 AS a) INSERT INTO t SELECT a FROM x
-- refuse: CTE in front of DELETE
WITH x AS (SELECT 'd1' AS id) DELETE FROM rejects WHERE id IN (SELECT id FROM x)
-- refuse: CTE in front of UPDATE
WITH x AS (SELECT 1) UPDATE rejects SET reason = 'fake'
-- refuse: recursive CTE feeding INSERT
WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) INSERT INTO t SELECT n FROM r
-- refuse: file read hidden in a CTE
WITH x AS (SELECT * FROM read_csv('/etc/passwd')) SELECT * FROM x
-- refuse: file read hidden in a materialized CTE
WITH x AS MATERIALIZED (SELECT * FROM read_text('/etc/hostname')) SELECT * FROM x
-- refuse: file read in a subquery
SELECT * FROM (SELECT * FROM read_blob('/etc/hostname'))
-- refuse: file read in a scalar subquery
SELECT (SELECT content FROM read_text('/etc/passwd')) AS leaked
-- refuse: file read in an IN list
SELECT * FROM curated.web WHERE id IN (SELECT column0 FROM read_csv('/etc/passwd'))
-- refuse: file read joined to a lake table
SELECT * FROM curated.web, read_text('/etc/passwd')
-- refuse: file read through a lateral join on a column
SELECT * FROM curated.web, LATERAL read_text(curated.web.url)
-- refuse: CREATE TABLE AS
CREATE TABLE t AS SELECT 1
-- refuse: CREATE OR REPLACE VIEW over a lake view
CREATE OR REPLACE VIEW curated.web AS SELECT 'fake' AS id, 'fake' AS text
-- refuse: CREATE TEMP VIEW
CREATE TEMP VIEW x AS SELECT 1
-- refuse: CREATE SCHEMA
CREATE SCHEMA evil
-- refuse: CREATE MACRO
CREATE MACRO evil(x) AS x + 1
-- refuse: CREATE OR REPLACE the history macro
CREATE OR REPLACE MACRO history(name) AS TABLE SELECT 'fake' AS version
-- refuse: CREATE SECRET
CREATE SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')
-- refuse: CREATE PERSISTENT SECRET
CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')
-- refuse: CREATE SEQUENCE
CREATE SEQUENCE seq
-- refuse: CREATE TYPE
CREATE TYPE mood AS ENUM ('a', 'b')
-- refuse: CREATE INDEX
CREATE INDEX i ON curated.web (id)
-- refuse: CREATE FUNCTION
CREATE FUNCTION f(x) AS x
-- refuse: INSERT INTO a lake view
INSERT INTO curated.web SELECT * FROM curated.web
-- refuse: INSERT OR REPLACE
INSERT OR REPLACE INTO rejects VALUES ('x')
-- refuse: UPDATE
UPDATE rejects SET reason = 'fake'
-- refuse: DELETE
DELETE FROM rejects
-- refuse: TRUNCATE
TRUNCATE rejects
-- refuse: DROP VIEW
DROP VIEW curated.web
-- refuse: DROP SCHEMA CASCADE
DROP SCHEMA curated CASCADE
-- refuse: DROP MACRO TABLE
DROP MACRO TABLE history
-- refuse: ALTER VIEW RENAME
ALTER VIEW curated.web RENAME TO old_web
-- refuse: ALTER TABLE ADD COLUMN
ALTER TABLE rejects ADD COLUMN x INTEGER
-- refuse: COMMENT ON
COMMENT ON VIEW curated.web IS 'fake'
-- refuse: MERGE INTO
MERGE INTO rejects USING (SELECT 'd5' AS id) s ON rejects.id = s.id WHEN MATCHED THEN DELETE
-- refuse: SET enable_external_access
SET enable_external_access = true
-- refuse: SET lock_configuration off
SET lock_configuration = false
-- refuse: RESET lock_configuration
RESET lock_configuration
-- refuse: RESET ALL
RESET ALL
-- refuse: SET GLOBAL
SET GLOBAL threads = 1
-- refuse: SET search_path
SET search_path = 'curated'
-- refuse: SET VARIABLE (allowed by DuckDB even with a locked configuration)
SET VARIABLE token = 'x'
-- refuse: RESET VARIABLE
RESET VARIABLE token
-- refuse: SET autoload_known_extensions
SET autoload_known_extensions = true
-- refuse: SET allowed_directories
SET allowed_directories = ['/']
-- refuse: PRAGMA enable_profiling
PRAGMA enable_profiling
-- refuse: PRAGMA threads
PRAGMA threads = 1
-- refuse: PRAGMA version (a PRAGMA, even one that only reads)
PRAGMA version
-- refuse: PRAGMA show_tables
PRAGMA show_tables
-- refuse: PRAGMA import_database reads files at parse time
PRAGMA import_database('/etc')
-- refuse: PRAGMA disable_optimizer
PRAGMA disable_optimizer
-- refuse: ATTACH a new database file
ATTACH 'evil.db' AS evil
-- refuse: ATTACH in-memory
ATTACH ':memory:' AS scratch
-- refuse: ATTACH inside the lake
ATTACH '$LAKE/evil.duckdb'
-- refuse: DETACH
DETACH evil
-- refuse: USE another schema
USE temp
-- refuse: USE the system catalog
USE system.main
-- refuse: CHECKPOINT
CHECKPOINT
-- refuse: FORCE CHECKPOINT
FORCE CHECKPOINT
-- refuse: VACUUM
VACUUM
-- refuse: VACUUM ANALYZE
VACUUM ANALYZE rejects
-- refuse: ANALYZE
ANALYZE
-- refuse: BEGIN TRANSACTION
BEGIN TRANSACTION
-- refuse: ROLLBACK
ROLLBACK
-- refuse: EXPORT DATABASE
EXPORT DATABASE 'dump'
-- refuse: IMPORT DATABASE
IMPORT DATABASE '/etc'
-- refuse: COPY a query to a local file
COPY (SELECT * FROM curated.web) TO 'stolen.csv'
-- refuse: COPY a view to Parquet
COPY curated.web TO 'stolen.parquet' (FORMAT parquet)
-- refuse: COPY FROM a local file
COPY rejects FROM '/etc/passwd'
-- refuse: COPY FROM DATABASE
COPY FROM DATABASE memory TO scratch
-- refuse: INSTALL an extension
INSTALL httpfs
-- refuse: LOAD an extension
LOAD httpfs
-- refuse: FORCE INSTALL from community
FORCE INSTALL shellfs FROM community
-- refuse: UPDATE EXTENSIONS
UPDATE EXTENSIONS
-- refuse: LOAD an extension file
LOAD 'evil.duckdb_extension'
-- refuse: CALL checkpoint
CALL checkpoint()
-- refuse: CALL enable_logging
CALL enable_logging()
-- refuse: CALL truncate_duckdb_logs
CALL truncate_duckdb_logs()
-- refuse: CALL a reading table function (CALL is not SELECT)
CALL pragma_version()
-- refuse: PREPARE a DELETE
PREPARE p AS DELETE FROM rejects
-- refuse: EXECUTE a prepared statement
EXECUTE p
-- refuse: DEALLOCATE
DEALLOCATE p
-- refuse: PIVOT without IN creates a type first
PIVOT rejects ON reason USING count(*)
-- refuse: read_csv
SELECT * FROM read_csv('/etc/passwd')
-- refuse: read_csv_auto
SELECT * FROM read_csv_auto('/etc/passwd')
-- refuse: read_text
SELECT * FROM read_text('/etc/passwd')
-- refuse: read_blob
SELECT * FROM read_blob('/etc/passwd')
-- refuse: read_parquet of the lake's files (bypasses the Delta snapshot)
SELECT * FROM read_parquet('$LAKE/curated/web/**/*.parquet')
-- refuse: parquet_scan
SELECT * FROM parquet_scan('$LAKE/rejects/**/*.parquet')
-- refuse: read_json
SELECT * FROM read_json('/etc/hostname')
-- refuse: read_json_objects of the Delta log
SELECT * FROM read_json_objects('$LAKE/curated/web/_delta_log/*.json')
-- refuse: read_ndjson
SELECT * FROM read_ndjson('x.json')
-- refuse: glob
SELECT * FROM glob('/etc/*')
-- refuse: sniff_csv
SELECT * FROM sniff_csv('/etc/passwd')
-- refuse: parquet_metadata
SELECT * FROM parquet_metadata('$LAKE/curated/web/**/*.parquet')
-- refuse: parquet_schema
SELECT * FROM parquet_schema('$LAKE/curated/web/**/*.parquet')
-- refuse: parquet_kv_metadata
SELECT * FROM parquet_kv_metadata('$LAKE/curated/web/**/*.parquet')
-- refuse: read_duckdb
SELECT * FROM read_duckdb('evil.db', table_name => 't')
-- refuse: query() runs SQL from a string
SELECT * FROM query('SELECT * FROM read_text(''/etc/passwd'')')
-- refuse: query_table
SELECT * FROM query_table('curated.web')
-- refuse: json_execute_serialized_sql
SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT 1'))
-- refuse: checkpoint() as a table function
SELECT * FROM checkpoint()
-- refuse: force_checkpoint()
SELECT * FROM force_checkpoint()
-- refuse: enable_profiling()
SELECT * FROM enable_profiling()
-- refuse: enable_logging()
SELECT * FROM enable_logging()
-- refuse: duckdb_secrets()
SELECT * FROM duckdb_secrets()
-- refuse: which_secret
SELECT * FROM which_secret('s3://bucket/x', 's3')
-- refuse: duckdb_extensions() lists the extension directory
SELECT * FROM duckdb_extensions()
-- refuse: duckdb_logs()
SELECT * FROM duckdb_logs()
-- refuse: a qualified file reader
SELECT * FROM system.main.read_text('/etc/passwd')
-- refuse: a file reader in upper case
SELECT * FROM main.READ_CSV('/etc/passwd')
-- refuse: write_log
SELECT write_log('x')
-- refuse: setseed
SELECT setseed(0.5)
-- refuse: nextval
SELECT nextval('seq')
-- refuse: a file by quoted name
SELECT * FROM '/etc/passwd'
-- refuse: FROM-first file name
FROM '/etc/hostname'
-- refuse: a relative CSV by name
SELECT * FROM 'stolen.csv'
-- refuse: an unquoted file name (schema data, table csv)
SELECT * FROM data.csv
-- refuse: a glob over the lake's Parquet files
SELECT * FROM '$LAKE/curated/web/**/*.parquet'
-- refuse: the Delta log by name
FROM '$LAKE/curated/web/_delta_log/00000000000000000000.json'
-- refuse: DESCRIBE a file
DESCRIBE '/etc/passwd'
-- refuse: SUMMARIZE a file
SUMMARIZE '/etc/passwd'
-- refuse: SHOW a file
SHOW '/etc/passwd'
-- refuse: a URL by name
SELECT * FROM 'https://example.org/x.csv'
-- refuse: an S3 object by name
SELECT * FROM 's3://bucket/key.parquet'
-- refuse: a table of another catalog
SELECT * FROM evil.main.t
-- refuse: a read, then DROP
SELECT 1; DROP VIEW curated.web
-- refuse: a read, then a replaced view
SELECT 1; CREATE OR REPLACE VIEW curated.web AS SELECT 'fake' AS id, 'fake' AS text
-- refuse: a read, then DROP without a space
SELECT 1;DROP VIEW rejects
-- refuse: a ; inside a string, then DELETE
SELECT 'a;b'; DELETE FROM rejects
-- refuse: a line comment before the ;
SELECT 1 -- a comment
; DROP VIEW rejects
-- refuse: a statement behind a block comment
/* SELECT 1 */ DROP VIEW rejects
-- refuse: a statement behind a line comment
-- SELECT 1
DROP VIEW rejects
-- refuse: a ; inside a block comment, then ATTACH
SELECT 1 /* ; */; ATTACH 'evil.db'
-- refuse: a dollar-quoted ;, then DROP
SELECT $$;$$; DROP VIEW rejects
-- refuse: an escaped quote in an E string, then DROP
SELECT E'\';'; DROP VIEW rejects
-- refuse: a ; in a quoted identifier, then DROP
SELECT "a;b" FROM (SELECT 1 AS "a;b"); DROP VIEW rejects
-- refuse: empty statements, then DROP
SELECT 1;;; DROP VIEW rejects
-- refuse: DROP first, then a read
DROP VIEW rejects; SELECT 1
-- refuse: a -- inside a string, then DROP
SELECT '--'; DROP VIEW rejects; -- '
-- refuse: time travel, then DROP
SELECT * FROM curated.web@v0; DROP VIEW curated.web
-- refuse: a view replaced by an old version
CREATE OR REPLACE VIEW curated.web AS SELECT * FROM curated.web@v0
-- refuse: DELETE through a time-travel name
DELETE FROM rejects@v0
-- refuse: time travel by time, then DROP
SELECT * FROM curated.web@2026-01-01T00:00:00Z; DROP VIEW curated.web
-- refuse: a quoted snapshot name, then COPY
SELECT * FROM "curated.web@v0"; COPY (SELECT 1) TO 'stolen.csv'
-- refuse: time travel joined to a file read
SELECT * FROM curated.web@v0 AS x, read_text('/etc/passwd')
-- refuse: EXPLAIN ANALYZE replaces a view with an old version
EXPLAIN ANALYZE CREATE OR REPLACE VIEW curated.web AS SELECT * FROM curated.web@v0
-- refuse: time travel, a line comment, then DROP
SELECT * FROM rejects@v0 -- x
; DROP VIEW rejects
-- refuse: a quote in a comment after time travel, then DROP
SELECT 'x' FROM rejects@v0 /*'*/; DROP VIEW rejects
-- refuse: an E string that the rewriter reads differently, then DROP
SELECT E'\'' AS a, rejects@v0 AS b; DROP VIEW rejects --'
-- refuse: time travel inside a string next to a real DROP
SELECT 'rejects@v0'; DROP VIEW rejects
-- refuse: a time-travel reference as a table function argument
SELECT * FROM read_parquet('curated.web@v0')
-- allow: count a lake view
SELECT count(*) AS n FROM curated.web
-- allow: a CTE joined to another table
WITH kept AS (SELECT id FROM curated.web)
SELECT r.reason, count(k.id) AS kept FROM rejects r LEFT JOIN kept k ON r.id = k.id GROUP BY 1 ORDER BY 1
-- allow: time travel by version
SELECT count(*) AS n FROM curated.web@v0
-- allow: EXPLAIN of a SELECT
EXPLAIN SELECT * FROM curated.web
-- allow: EXPLAIN ANALYZE of a SELECT
EXPLAIN ANALYZE SELECT count(*) FROM curated.web
-- allow: a table's commits
SELECT version, rows FROM history('curated.web')
-- allow: DESCRIBE a table
DESCRIBE curated.web
-- allow: SHOW TABLES
SHOW TABLES
-- allow: SUMMARIZE a table
SUMMARIZE rejects
-- allow: FROM-first
FROM curated.web SELECT id ORDER BY id LIMIT 2
-- allow: PIVOT with an IN list
PIVOT rejects ON stage IN ('curate', 'ingest') USING count(*)
-- allow: two reads in one go
SELECT 1 AS a; SELECT count(*) AS n FROM rejects
-- allow: write keywords inside a string
SELECT 'DROP VIEW curated.web; -- ' AS s
-- allow: the catalog
SELECT table_name, version FROM lake_tables ORDER BY 1
-- allow: catalog table functions
SELECT count(*) AS n FROM duckdb_views() WHERE schema_name = 'curated'
