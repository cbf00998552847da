{{ config(materialized='sink') }}
-- Purchases above the buyer's current budget (budgets change; purchases keep their amount).
select
    p.purchase_id,
    b.buyer_id,
    b.buyer_name,
    p.amount,
    b.max_price,
    p.amount - b.max_price as over_by
from {{ ref('stg_purchases') }} p
join {{ ref('stg_buyers') }} b using (buyer_id)
where p.amount > b.max_price
