{{ config(materialized='sink') }}
-- Unsold leads that at least one active buyer would take, with how many could.
select
    u.lead_id,
    u.vertical,
    u.region,
    u.price,
    count(*) as eligible_buyers,
    max(e.headroom) as best_headroom
from {{ ref('unmatched_leads') }} u
join {{ ref('eligible_buyers') }} e on e.lead_id = u.lead_id
group by u.lead_id, u.vertical, u.region, u.price
