{{ config(materialized='sink') }}
with spend as (
    select
        buyer_id,
        count(*) as purchases,
        sum(amount) as total_spend,
        max(purchased_at) as last_purchase_at
    from {{ ref('stg_purchases') }}
    group by buyer_id
)
select
    b.buyer_id,
    b.buyer_name,
    b.vertical,
    s.purchases,
    s.total_spend,
    round(s.total_spend / s.purchases, 2) as avg_price,
    s.last_purchase_at,
    case
        when s.total_spend >= {{ var('high_spender_total') }} then 'high'
        when s.total_spend between {{ var('medium_spender_total') }} and {{ var('high_spender_total') }} then 'medium'
        else 'low'
    end as spend_band
from spend s
join {{ ref('stg_buyers') }} b using (buyer_id)
