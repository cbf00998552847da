select
    methods.payment_method,
    methods.label,
    methods.is_card,
    count(payments.payment_id) as payments,
    coalesce(sum(payments.amount), 0) as amount
from {{ ref('payment_methods') }} as methods
left join {{ ref('stg_payments') }} as payments
    on payments.payment_method = methods.payment_method
group by methods.payment_method, methods.label, methods.is_card
