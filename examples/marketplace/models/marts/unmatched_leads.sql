{{ config(materialized='sink') }}
-- Leads nobody has bought yet: a lead is unmatched when its purchases add up to zero.
with purchase_counts as (
    select lead_id, 0 as purchases from {{ ref('stg_leads') }}
    union all
    select lead_id, 1 from {{ ref('stg_purchases') }}
),
unmatched as (
    select lead_id
    from purchase_counts
    group by lead_id
    having sum(purchases) = 0
)
select l.lead_id, l.vertical, l.region, l.created_at, l.price, l.is_premium
from unmatched u
join {{ ref('stg_leads') }} l on l.lead_id = u.lead_id
