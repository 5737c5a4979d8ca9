-- user_sessions: the 20 busiest (user, session) pairs on 2024-12-25, by number of actions.
-- Reads only the year/month/day partition of that day (partition values are strings).
-- Order: by actions descending; sessions tied at the 20th place may be cut in any order.
SELECT user_id, session_id, COUNT(*) as actions
FROM ${database}.events
WHERE year = '2024' AND month = '12' AND day = '25'
GROUP BY user_id, session_id
ORDER BY actions DESC
LIMIT 20;
