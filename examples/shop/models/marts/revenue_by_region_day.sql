{{ config(materialized='sink') }}
select
    region,
    order_date,
    sum(line_amount) as revenue,
    sum(quantity) as units,
    count(*) as order_lines
from {{ ref('order_lines') }}
group by region, order_date
