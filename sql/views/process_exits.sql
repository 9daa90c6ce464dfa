-- title: Process exits
-- description: Every process that ended, with the CPU, memory and I/O of its whole life (all threads).
CREATE VIEW process_exits AS
SELECT ts,
       pid,
       comm,
       exit_code,
       signal,
       round(lifetime_us / 1000.0, 3) AS lifetime_ms,
       round(cpu_us / 1000.0, 3) AS cpu_ms,
       round(user_us / 1000.0, 3) AS user_ms,
       round(system_us / 1000.0, 3) AS system_ms,
       peak_rss_kb,
       read_bytes,
       write_bytes,
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
