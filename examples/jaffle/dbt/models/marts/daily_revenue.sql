select order_day, count(*) as orders, sum(amount) as revenue
from {{ ref('paid_orders') }}
group by order_day
