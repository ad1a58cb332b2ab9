--
-- guc_prefix: the prefix pg_background. is reserved for the library's own
-- settings.  Reserving a prefix (MarkGUCPrefixReserved) is PostgreSQL 15+:
-- on 15 and later loading the library removes an unknown pg_background.*
-- placeholder and no such name can be set afterwards; on 13 and 14
-- PostgreSQL can only warn about it.  expected/guc_prefix.out is 15 and
-- later, expected/guc_prefix_1.out is 13 and 14.
--
\set SHOW_CONTEXT never
SET pg_background.nonexistent = 1;
LOAD 'pg_background';
SHOW pg_background.nonexistent;

\i sql/include/try.sql

SELECT * FROM pg_temp.try('SET pg_background.nonexistent = 1');
SELECT * FROM pg_temp.try($$SELECT set_config('pg_background.nonexistent', '1', false)$$);
SELECT * FROM pg_temp.try('SHOW pg_background.nonexistent');
SELECT * FROM pg_temp.try('ALTER ROLE CURRENT_USER SET pg_background.nonexistent = 1');

-- Nothing is left behind for later sessions (on 13 and 14 the ALTER ROLE
-- above succeeded).
DO $$
BEGIN
    EXECUTE format('ALTER ROLE %I RESET pg_background.nonexistent', current_user);
EXCEPTION WHEN OTHERS THEN
    NULL;               -- 15+: the name is not valid, so nothing to reset
END
$$;
SELECT count(*) AS settings_left
  FROM pg_db_role_setting s, unnest(s.setconfig) c
 WHERE c LIKE 'pg_background.%';
