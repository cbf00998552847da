-- The ten highest bids of each auction (ties by time, for one answer).
select * from (
    select *, row_number() over (partition by auction order by price desc, date_time) as rank_number
    from {{ source('nexmark', 'bid') }}
) as ranked
where rank_number <= 10
