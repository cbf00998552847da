{{ config(materialized='sink') }}
-- Categories that sold at least `min_category_units` units, with their share of units by region.
select
    category,
    sum(quantity) as units,
    sum(line_amount) as revenue,
    sum(case when region in ('north', 'east') then quantity else 0 end) as units_north_east,
    sum(case when region in ('south', 'west') then quantity else 0 end) as units_south_west
from {{ ref('order_lines') }}
group by category
having sum(quantity) >= {{ var('min_category_units') }}
