-- Each bidder's last bid per auction (deduplication by row_number).
select auction, bidder, price, channel, url, date_time, extra
from (
    select *, row_number() over (partition by bidder, auction order by date_time desc) as rank_number
    from {{ source('nexmark', 'bid') }}
) as ranked
where rank_number <= 1
