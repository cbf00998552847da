-- Channel ids: by name for four channels, else from the URL's channel_id parameter (Flink's
-- REGEXP_EXTRACT written with strpos and split_part, which the generator's URLs make equal).
select auction, bidder, price, channel,
       case
           when lower(channel) = 'apple' then '0'
           when lower(channel) = 'google' then '1'
           when lower(channel) = 'facebook' then '2'
           when lower(channel) = 'baidu' then '3'
           else split_part(split_part(url, 'channel_id=', 2), '&', 1)
       end as channel_id
from {{ source('nexmark', 'bid') }}
where lower(channel) in ('apple', 'google', 'facebook', 'baidu') or strpos(url, 'channel_id=') > 0
