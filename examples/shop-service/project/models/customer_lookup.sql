-- Served to this service: a customer's current lifetime value and tier, looked up by id through
-- the library's shop_lookup.
{{ config(materialized='index', unique_key='customer_id') }}
select customer_id, customer_name, region, tier, lifetime_value, order_count
from {{ ref('customer_lifetime_value') }}
