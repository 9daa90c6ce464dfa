-- title: Process exits
-- description: Every process that ended, with the CPU, memory and I/O of its whole life (all threads).
CREATE VIEW process_exits AS
SELECT ts,
       pid,
       comm,
       exit_code,
       signal,
       lifetime_us / 1000.0 AS lifetime_ms,
       cpu_us / 1000.0 AS cpu_ms,
       peak_rss_kb,
       read_bytes,
       write_bytes,
       user_us / 1000.0 AS user_ms,
       system_us / 1000.0 AS system_ms,
       minor_faults_count,
       major_faults_count,
       voluntary_switches_count,
       involuntary_switches_count,
       core_dumped,
       ppid,
       uid,
       cgroup_id,
       start_clock_ticks,
       time_ns
FROM process_exit;
