-- title: Host inventory
-- description: Hostname, kernel, CPU, memory, NUMA, disks and NICs: each key's current value and since when (ts).
CREATE VIEW host_inventory AS
SELECT i.ts, i.key, i.value
FROM inventory i
WHERE i.value IS NOT NULL
  AND i.ts = (SELECT max(ts) FROM inventory WHERE key = i.key);
