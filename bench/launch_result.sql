SELECT * FROM pg_background_result(pg_background_launch('SELECT 1')) AS (x int);
