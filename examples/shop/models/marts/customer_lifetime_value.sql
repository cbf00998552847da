{{ config(materialized='sink') }}
with per_customer as (
    select
        customer_id,
        count(*) as order_count,
        sum(order_total) as lifetime_value,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date
    from {{ ref('order_totals') }}
    group by customer_id
)
select
    c.customer_id,
    c.customer_name,
    c.region,
    pc.order_count,
    pc.lifetime_value,
    round(pc.lifetime_value / pc.order_count, 2) as avg_order_value,
    pc.first_order_date,
    pc.last_order_date,
    case
        when pc.lifetime_value >= {{ var('vip_lifetime_value') }} then 'vip'
        when pc.lifetime_value >= {{ var('regular_lifetime_value') }} then 'regular'
        else 'occasional'
    end as tier
from per_customer pc
join {{ ref('stg_customers') }} c on c.customer_id = pc.customer_id
