-- Refunds are negative payments; no order should be refunded more than was paid.
select
    order_id,
    sum(amount) as total_amount
from {{ ref('stg_payments') }}
group by order_id
having sum(amount) < 0
