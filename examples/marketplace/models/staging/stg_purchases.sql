-- A purchase with a zero amount is a free replacement for a bad lead, not a sale.
select
    id as purchase_id,
    lead_id,
    buyer_id,
    purchased_at,
    amount
from {{ source('market', 'purchases') }}
where amount is not null and amount > 0
