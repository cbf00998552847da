-- Each customer's orders in sequence: which order it was, the days since the one before, and
-- whether it is the latest (the window functions a dbt project reaches for, maintained as
-- orders arrive, change status or go).
with orders as (
    select * from {{ ref('stg_orders') }}
),

sequenced as (
    select
        order_id,
        customer_id,
        order_date,
        status,
        row_number() over by_customer as order_number,
        order_date - lag(order_date) over by_customer as days_since_previous,
        row_number() over (partition by customer_id order by order_date desc, order_id desc) as recency
    from orders
    window by_customer as (partition by customer_id order by order_date, order_id)
)

select
    order_id,
    customer_id,
    order_date,
    status,
    order_number,
    days_since_previous,
    recency = 1 as is_latest
from sequenced
