select
    id as lead_id,
    lower(vertical) as vertical,
    upper(region) as region,
    created_at,
    created_at::date as created_day,
    price,
    price >= {{ var('premium_lead_price') }} as is_premium
from {{ source('market', 'leads') }}
