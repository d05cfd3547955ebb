select c.customer_id, c.name, upper(c.region) as region, r.region_name
from {{ source('shop', 'customers') }} c
left join {{ ref('region_names') }} r on r.region = upper(c.region)
