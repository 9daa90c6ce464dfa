-- title: Network interface rates
-- description: Bytes, packets, errors and drops per second per interface (idle interfaces have no row), with each rollup bucket's peak byte rates.
CREATE VIEW net_rates AS
SELECT n.ts,
       i.name AS interface,
       CAST(round(n.rx_bytes * 1000.0 / n.dur_ms) AS INTEGER) AS rx_bytes_per_s,
       CAST(round(n.tx_bytes * 1000.0 / n.dur_ms) AS INTEGER) AS tx_bytes_per_s,
       round(n.rx_packets_count * 10000.0 / n.dur_ms) / 10 AS rx_packets_per_s,
       round(n.tx_packets_count * 10000.0 / n.dur_ms) / 10 AS tx_packets_per_s,
       n.max_rx_bytes_per_s,
       n.max_tx_bytes_per_s,
       n.rx_errors_count,
       n.tx_errors_count,
       n.rx_dropped_count,
       n.tx_dropped_count,
       n.rx_bytes,
       n.tx_bytes,
       n.dur_ms
FROM net_auto n JOIN net_interface i ON i.id = n.interface_id
WHERE n.dur_ms > 0;
