-- Singular test: fails when any day has negative revenue.
select * from {{ ref('daily_revenue') }} where revenue < 0
