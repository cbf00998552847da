{{ config(materialized='sink') }}
select
    p.product_id,
    p.product_name,
    p.category,
    sum(l.quantity) as units_sold,
    sum(l.line_amount) as revenue,
    -- Below 1 when the product sold under its current list price on average.
    round(sum(l.line_amount) / nullif(sum(l.quantity * p.list_price), 0), 3) as price_realisation
from {{ ref('order_lines') }} l
join {{ ref('stg_products') }} p on p.product_id = l.product_id
group by p.product_id, p.product_name, p.category
