{{ config(materialized='sink') }}
select
    purchase_day,
    region,
    count(*) as purchases,
    sum(amount) as revenue,
    sum(amount - lead_price) as markup
from (
    select
        cast(date_trunc('day', p.purchased_at) as date) as purchase_day,
        l.region,
        p.amount,
        l.price as lead_price
    from {{ ref('stg_purchases') }} p, {{ ref('stg_leads') }} l
    where l.lead_id = p.lead_id
) as sales
group by purchase_day, region
