-- events_per_country: how many events come from each country?
-- Order: none (no ORDER BY), so rows come back in any order; compare them as a set.
SELECT country, COUNT(*) as events
FROM ${database}.events
GROUP BY country;
