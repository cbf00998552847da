-- Active buyers who would take a lead: same vertical, their region (or any region when they have
-- none), and a lead price within their budget.
select
    l.lead_id,
    b.buyer_id,
    b.max_price - l.price as headroom
from {{ ref('stg_leads') }} l
join {{ ref('stg_buyers') }} b on b.vertical = l.vertical
where b.active
  and (b.region is null or b.region = l.region)
  and l.price <= b.max_price
