{{ config(materialized='sink') }}
select c.region, count(*) as orders, sum(o.amount) as revenue
from {{ source('shop', 'customers') }} c
join {{ source('shop', 'orders') }} o on o.customer_id = c.id
where not coalesce('vip' = any(c.tags), false)
group by c.region
