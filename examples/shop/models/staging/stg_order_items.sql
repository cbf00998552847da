select
    order_id,
    line,
    product_id,
    quantity,
    unit_price,
    quantity * unit_price as line_amount
from {{ source('shop', 'order_items') }}
where quantity > 0
