-- Selection.
select auction, price from {{ source('nexmark', 'bid') }} where mod(auction, 123) = 0
