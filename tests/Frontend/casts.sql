-- Casts in their three spellings. Type names take PostgreSQL's canonical spelling (the grammar's
-- pg_catalog names), with modifiers, array brackets and INTERVAL's fields.
-- RUN: kiln-parse %s | FileCheck %s --strict-whitespace --match-full-lines

select a::integer, a::int, a::int4, a::bigint, a::smallint, a::real, a::float, a::float(10),
  a::double precision, a::float8, a::numeric, a::decimal(12, 2), a::numeric(5,-2), a::text,
  a::varchar, a::character varying(20), a::char, a::char(3), a::boolean, a::bool, a::date,
  a::timestamp, a::timestamp(3), a::timestamp with time zone, a::timestamptz, a::interval,
  a::int[], a::text[][], a::mytype, a::myschema.mytype, a::"Quoted",
  cast(a as text), cast(a as numeric(10, 2)), a::text::int,
  date '2024-01-31', timestamp '2024-01-31 12:00', interval '90' day,
  interval '1-2' year to month, interval '1' second(3), interval(2) '1 s',
  interval '1' day to second(2), text 'abc'

-- CHECK:(select
-- CHECK-NEXT:  (targets
-- CHECK-NEXT:    (item (cast (column a) int4))
-- CHECK-NEXT:    (item (cast (column a) int4))
-- CHECK-NEXT:    (item (cast (column a) int4))
-- CHECK-NEXT:    (item (cast (column a) int8))
-- CHECK-NEXT:    (item (cast (column a) int2))
-- CHECK-NEXT:    (item (cast (column a) float4))
-- CHECK-NEXT:    (item (cast (column a) float8))
-- CHECK-NEXT:    (item (cast (column a) float4))
-- CHECK-NEXT:    (item (cast (column a) float8))
-- CHECK-NEXT:    (item (cast (column a) float8))
-- CHECK-NEXT:    (item (cast (column a) numeric))
-- CHECK-NEXT:    (item (cast (column a) numeric(12,2)))
-- CHECK-NEXT:    (item (cast (column a) numeric(5,-2)))
-- CHECK-NEXT:    (item (cast (column a) text))
-- CHECK-NEXT:    (item (cast (column a) varchar))
-- CHECK-NEXT:    (item (cast (column a) varchar(20)))
-- CHECK-NEXT:    (item (cast (column a) bpchar(1)))
-- CHECK-NEXT:    (item (cast (column a) bpchar(3)))
-- CHECK-NEXT:    (item (cast (column a) bool))
-- CHECK-NEXT:    (item (cast (column a) bool))
-- CHECK-NEXT:    (item (cast (column a) date))
-- CHECK-NEXT:    (item (cast (column a) timestamp))
-- CHECK-NEXT:    (item (cast (column a) timestamp(3)))
-- CHECK-NEXT:    (item (cast (column a) timestamptz))
-- CHECK-NEXT:    (item (cast (column a) timestamptz))
-- CHECK-NEXT:    (item (cast (column a) interval))
-- CHECK-NEXT:    (item (cast (column a) int4[]))
-- CHECK-NEXT:    (item (cast (column a) text[]))
-- CHECK-NEXT:    (item (cast (column a) mytype))
-- CHECK-NEXT:    (item (cast (column a) myschema.mytype))
-- CHECK-NEXT:    (item (cast (column a) Quoted))
-- CHECK-NEXT:    (item (cast (column a) text))
-- CHECK-NEXT:    (item (cast (column a) numeric(10,2)))
-- CHECK-NEXT:    (item (cast (cast (column a) text) int4))
-- CHECK-NEXT:    (item (cast (literal string "2024-01-31") date))
-- CHECK-NEXT:    (item (cast (literal string "2024-01-31 12:00") timestamp))
-- CHECK-NEXT:    (item (cast (literal string "90") interval day))
-- CHECK-NEXT:    (item (cast (literal string "1-2") interval year to month))
-- CHECK-NEXT:    (item (cast (literal string "1") interval second(3)))
-- CHECK-NEXT:    (item (cast (literal string "1 s") interval(2)))
-- CHECK-NEXT:    (item (cast (literal string "1") interval day to second(2)))
-- CHECK-NEXT:    (item (cast (literal string "abc") text))))
