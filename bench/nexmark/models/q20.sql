-- Bids joined with their auction's details, for one category.
select auction, bidder, price, channel, url, b.date_time, b.extra,
       itemname, description, initialbid, reserve, a.date_time as adatetime, expires, seller,
       category, a.extra as aextra
from {{ source('nexmark', 'bid') }} as b
join {{ source('nexmark', 'auction') }} as a on b.auction = a.id
where a.category = 10
