{{ config(materialized='sink') }}
-- Without outer joins, leads and sold leads are counted as two streams of 0/1 flags.
with sold_leads as (
    select distinct lead_id from {{ ref('stg_purchases') }}
),
flags as (
    select vertical, 1 as is_lead, 0 as is_sold, price as lead_value
    from {{ ref('stg_leads') }}
    union all
    select l.vertical, 0, 1, cast(0 as numeric(8,2))
    from sold_leads s
    join {{ ref('stg_leads') }} l on l.lead_id = s.lead_id
)
select
    vertical,
    sum(is_lead) as leads,
    sum(is_sold) as sold_leads,
    round(100.0 * sum(is_sold) / nullif(sum(is_lead), 0), 1) as conversion_pct,
    sum(lead_value) as listed_value
from flags
group by vertical
