-- Local item suggestion: sellers in some states of auctions in one category.
select p.name, p.city, p.state, a.id
from {{ source('nexmark', 'auction') }} as a
join {{ source('nexmark', 'person') }} as p on a.seller = p.id
where a.category = 10 and (p.state = 'OR' or p.state = 'ID' or p.state = 'CA')
