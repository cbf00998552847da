{{ config(materialized='sink') }}
select c.region, count(*) as orders, sum(o.amount) as revenue
from {{ source('shop', 'customers') }} c
join {{ source('shop', 'orders') }} o on o.customer_id = c.id
group by c.region
