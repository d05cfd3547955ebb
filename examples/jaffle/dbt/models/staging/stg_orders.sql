select order_id, customer_id, amount, status, cast(ordered_at as date) as order_day
from {{ source('shop', 'orders') }}
