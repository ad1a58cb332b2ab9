SELECT count(*), sum(length(t)) FROM pg_background_result(pg_background_launch(
  'SELECT g, md5(g::text) AS t FROM generate_series(1, 200000) g')) AS (g int, t text);
