{{ config(materialized='sink') }}
-- Orders placed but not yet delivered, per customer, served for lookups by customer_id.
select
    customer_id,
    count(*) as open_orders,
    min(order_date) as oldest_open_order
from {{ ref('stg_orders') }}
where status in ('placed', 'shipped')
group by customer_id
