-- Test accounts (named "test ...") are not real buyers.
select
    id as buyer_id,
    name as buyer_name,
    lower(vertical) as vertical,
    upper(region) as region,
    max_price,
    active
from {{ source('market', 'buyers') }}
where lower(name) not like 'test%'
