SELECT count(*), sum(length(t)) FROM (SELECT g, md5(g::text) AS t FROM generate_series(1, 200000) g) s;
