-- Winning bids: each auction with its highest bid while open (the earliest of equal ones).
select id, itemname, description, initialbid, reserve, date_time, expires, seller, category, extra,
       auction, bidder, price, bid_datetime, bid_extra
from (
    select a.*, b.auction, b.bidder, b.price, b.date_time as bid_datetime, b.extra as bid_extra,
           row_number() over (partition by a.id order by b.price desc, b.date_time asc) as rownum
    from {{ source('nexmark', 'auction') }} as a, {{ source('nexmark', 'bid') }} as b
    where a.id = b.auction and b.date_time between a.date_time and a.expires
) as winners
where rownum <= 1
