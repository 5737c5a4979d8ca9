-- device_breakdown: how many events per device type and browser combination?
-- Order: by cnt descending; combinations with equal counts may come in any order.
SELECT device_type, browser, COUNT(*) as cnt
FROM ${database}.events
GROUP BY device_type, browser
ORDER BY cnt DESC;
