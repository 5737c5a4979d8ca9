{{ config(materialized='table') }}

select event_type, count(*) as events, count(distinct user_id) as users
from {{ source('clickstream', 'events') }}
group by event_type
