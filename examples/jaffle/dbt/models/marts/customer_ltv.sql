select c.customer_id, c.name, c.region, c.region_name,
       count(o.order_id) as orders, coalesce(sum(o.amount), 0) as lifetime_value
from {{ ref('stg_customers') }} c
left join {{ ref('paid_orders') }} o using (customer_id)
group by all
