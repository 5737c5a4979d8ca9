{{ config(materialized='view') }}

select event_type, events
from {{ ref('event_type_counts') }}
where events > 0
