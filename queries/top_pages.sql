-- top_pages: which 10 pages get the most page views?
-- Order: by views descending; pages tied at the 10th place may be cut in any order (ties are
-- unordered), so two engines (or two runs) can return different, equally correct top 10s.
SELECT page_url, COUNT(*) as views
FROM ${database}.events
WHERE event_type = 'page_view'
GROUP BY page_url
ORDER BY views DESC
LIMIT 10;
