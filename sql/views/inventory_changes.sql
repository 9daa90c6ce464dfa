-- title: Inventory changes
-- description: Every hardware and kernel change seen, with the previous value (NULL value: the item went away).
CREATE VIEW inventory_changes AS
SELECT i.ts,
       i.key,
       (SELECT p.value FROM inventory p WHERE p.key = i.key AND p.ts < i.ts
        ORDER BY p.ts DESC LIMIT 1) AS old_value,
       i.value AS new_value
FROM inventory i;
