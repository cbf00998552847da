-- One row per (non-cancelled) order with at least one line.
select
    order_id,
    customer_id,
    order_date,
    sum(line_amount) as order_total,
    sum(quantity) as units
from {{ ref('order_lines') }}
group by order_id, customer_id, order_date
