-- count_by_event_type: how many events of each type (page_view, search, ..., purchase)?
-- Order: by cnt descending; types with equal counts may come in any order (ties are unordered).
SELECT event_type, COUNT(*) as cnt
FROM ${database}.events
GROUP BY event_type
ORDER BY cnt DESC;
