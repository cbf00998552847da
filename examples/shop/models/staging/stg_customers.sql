-- One row per customer; accounts without a region are grouped as 'unknown'.
select
    id as customer_id,
    name as customer_name,
    coalesce(lower(region), 'unknown') as region,
    signup_date
from {{ source('shop', 'customers') }}
