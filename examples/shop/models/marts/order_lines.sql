{{ config(materialized='ephemeral') }}
-- Every order line with its order, customer and product: inlined into the marts below.
select
    o.order_id,
    o.order_date,
    o.status,
    c.customer_id,
    c.region,
    p.product_id,
    p.category,
    i.quantity,
    i.unit_price,
    i.line_amount
from {{ ref('stg_orders') }} o
join {{ ref('stg_order_items') }} i on i.order_id = o.order_id
join {{ ref('stg_customers') }} c on c.customer_id = o.customer_id
join {{ ref('stg_products') }} p on p.product_id = i.product_id
