-- Merge functions for the sparse sketches in series_buckets, so that an upsert from any writer can
-- combine its partial aggregate with what is stored: latency bins add up, HyperLogLog registers take
-- the maximum. Both are commutative and associative, which is what lets several writers (or a retry
-- that lands after a later batch) add to the same bucket in any order.
CREATE OR REPLACE FUNCTION faultline_sketch_add(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(jsonb_object_agg(k, total), '{}'::jsonb)
  FROM (
    SELECT k, sum(v::numeric) AS total
    FROM (SELECT * FROM jsonb_each_text(a) UNION ALL SELECT * FROM jsonb_each_text(b)) AS bins(k, v)
    GROUP BY k
  ) AS merged
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION faultline_sketch_max(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(jsonb_object_agg(k, top), '{}'::jsonb)
  FROM (
    SELECT k, max(v::numeric) AS top
    FROM (SELECT * FROM jsonb_each_text(a) UNION ALL SELECT * FROM jsonb_each_text(b)) AS registers(k, v)
    GROUP BY k
  ) AS merged
$$;
