select
    id as product_id,
    name as product_name,
    lower(category) as category,
    price as list_price
from {{ source('shop', 'products') }}
