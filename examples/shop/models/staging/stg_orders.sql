-- Cancelled orders never count: an order that is cancelled leaves every mart downstream.
select
    id as order_id,
    customer_id,
    order_date,
    lower(status) as status
from {{ source('shop', 'orders') }}
where lower(status) <> 'cancelled'
