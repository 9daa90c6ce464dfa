-- title: Kernel events
-- description: Processes, threads, execs, exits, file opens, reads, writes, OOM kills and TCP retransmits per tick (eBPF), with eBPF's state, lost records and the ring buffer's peak fill.
CREATE VIEW kernel_events AS
-- bpf_state is known for raw ticks; in rolled-up ranges it is NULL.
SELECT b.ts,
       k.execs_count,
       k.execs_failed_count,
       k.processes_created_count,
       k.process_exits_count,
       k.threads_created_count,
       k.thread_exits_count,
       k.file_opens_count,
       k.file_opens_failed_count,
       k.file_closes_count,
       k.read_calls_count,
       k.read_bytes,
       k.read_errors_count,
       k.write_calls_count,
       k.write_bytes,
       k.write_errors_count,
       k.oom_kills_count,
       k.tcp_retransmits_count,
       b.events_count,
       b.ring_drops_count,
       b.buffer_drops_count,
       b.exec_drops_count,
       b.max_ring_peak_bytes AS ring_peak_bytes, -- the ring's fullest in the tick or bucket
       s.name AS bpf_state,
       b.dur_ms
FROM bpf_tick_auto AS b
LEFT JOIN bpf_tick AS r ON r.ts = b.ts
LEFT JOIN bpf_state AS s ON s.id = r.state_id
LEFT JOIN kernel_counters_auto AS k ON k.ts = b.ts;
