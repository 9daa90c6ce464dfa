-- 003: system collectors: network interfaces, disks, filesystems, TCP/UDP,
-- pressure, vmstat, kernel log, host inventory. Conventions as in 001.

-- Interface names; a renamed interface gets a new id.
CREATE TABLE net_interface (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);

-- /proc/net/dev counters as deltas over dur_ms. An idle interface writes no row.
CREATE TABLE net (
  ts                      INTEGER NOT NULL,
  interface_id            INTEGER NOT NULL,
  dur_ms                  INTEGER NOT NULL,
  rx_bytes                INTEGER NOT NULL,
  rx_packets_count        INTEGER NOT NULL,
  rx_errors_count         INTEGER NOT NULL,
  rx_dropped_count        INTEGER NOT NULL,
  rx_fifo_errors_count    INTEGER NOT NULL,
  rx_frame_errors_count   INTEGER NOT NULL,
  rx_compressed_count     INTEGER NOT NULL,
  rx_multicast_count      INTEGER NOT NULL,
  tx_bytes                INTEGER NOT NULL,
  tx_packets_count        INTEGER NOT NULL,
  tx_errors_count         INTEGER NOT NULL,
  tx_dropped_count        INTEGER NOT NULL,
  tx_fifo_errors_count    INTEGER NOT NULL,
  tx_collisions_count     INTEGER NOT NULL,
  tx_carrier_errors_count INTEGER NOT NULL,
  tx_compressed_count     INTEGER NOT NULL,
  PRIMARY KEY (ts, interface_id)
) WITHOUT ROWID;

-- /sys/class/net/<if>/ link state, one row when it changes (checked about
-- once a minute). NULL: unknown (speed and carrier of a link that is down).
CREATE TABLE net_link (
  ts           INTEGER NOT NULL,
  interface_id INTEGER NOT NULL,
  mtu_bytes    INTEGER,
  speed_mbps   INTEGER,
  operstate    TEXT,
  carrier      INTEGER,
  PRIMARY KEY (ts, interface_id)
) WITHOUT ROWID;

-- Block devices in /proc/diskstats; whole_disk from /sys/block/<name>
-- (1: a disk, 0: a partition), set when the device is first seen.
CREATE TABLE disk_device (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  whole_disk INTEGER,
  major      INTEGER,
  minor      INTEGER
);

-- /proc/diskstats as deltas over dur_ms, except in_flight_count (a gauge).
-- Bytes are sectors x 512. The discard fields (kernel 4.18+) and the flush
-- fields (5.5+) are NULL on kernels that do not report them. An idle device
-- writes no row.
CREATE TABLE disk (
  ts                    INTEGER NOT NULL,
  disk_id               INTEGER NOT NULL,
  dur_ms                INTEGER NOT NULL,
  reads_count           INTEGER NOT NULL,
  reads_merged_count    INTEGER NOT NULL,
  read_bytes            INTEGER NOT NULL,
  read_ms               INTEGER NOT NULL,
  writes_count          INTEGER NOT NULL,
  writes_merged_count   INTEGER NOT NULL,
  write_bytes           INTEGER NOT NULL,
  write_ms              INTEGER NOT NULL,
  in_flight_count       INTEGER NOT NULL,
  io_ms                 INTEGER NOT NULL,
  weighted_io_ms        INTEGER NOT NULL,
  discards_count        INTEGER,
  discards_merged_count INTEGER,
  discard_bytes         INTEGER,
  discard_ms            INTEGER,
  flushes_count         INTEGER,
  flush_ms              INTEGER,
  PRIMARY KEY (ts, disk_id)
) WITHOUT ROWID;

-- Mount points measured; fstype and source as last seen.
CREATE TABLE filesystem_mount (
  id     INTEGER PRIMARY KEY,
  name   TEXT NOT NULL UNIQUE, -- the mount point
  fstype TEXT,
  source TEXT
);

-- statvfs of each real filesystem (one mount per device), gauges at ts.
-- used = size - free; avail is what unprivileged users can still write.
CREATE TABLE filesystem (
  ts                INTEGER NOT NULL,
  mount_id          INTEGER NOT NULL,
  size_kb           INTEGER NOT NULL,
  free_kb           INTEGER NOT NULL,
  avail_kb          INTEGER NOT NULL,
  inodes_count      INTEGER NOT NULL,
  inodes_free_count INTEGER NOT NULL,
  PRIMARY KEY (ts, mount_id)
) WITHOUT ROWID;

-- TCP and UDP, one row per tick (the view is named tcp). The *_count
-- columns from /proc/net/snmp (Tcp, Udp) and /proc/net/netstat (TcpExt) are
-- deltas over dur_ms, except curr_estab_count. The sockstat columns (sockets_used_count ...
-- udp_mem_pages) are gauges; tcp_mem_pages and udp_mem_pages are in pages.
-- established_count ... closing_count are connections by TCP state at ts
-- (IPv4 + IPv6, from a sock_diag dump or /proc/net/tcp{,6}), taken every
-- 6th tick because the dump walks the whole TCP hash table; NULL in the
-- other rows (0 for a family with no socket in use and none in TIME_WAIT:
-- its walk is skipped). NULL elsewhere: not reported by this kernel, or not readable.
CREATE TABLE tcp_stat (
  ts     INTEGER PRIMARY KEY,
  dur_ms INTEGER NOT NULL,
  active_opens_count INTEGER,
  passive_opens_count INTEGER,
  attempt_fails_count INTEGER,
  estab_resets_count INTEGER,
  in_segs_count INTEGER,
  out_segs_count INTEGER,
  retrans_segs_count INTEGER,
  in_errs_count INTEGER,
  out_rsts_count INTEGER,
  in_csum_errors_count INTEGER,
  curr_estab_count INTEGER,
  udp_in_datagrams_count INTEGER,
  udp_out_datagrams_count INTEGER,
  udp_no_ports_count INTEGER,
  udp_in_errors_count INTEGER,
  udp_rcvbuf_errors_count INTEGER,
  udp_sndbuf_errors_count INTEGER,
  listen_overflows_count INTEGER,
  listen_drops_count INTEGER,
  timeouts_count INTEGER,
  syn_retrans_count INTEGER,
  syncookies_sent_count INTEGER,
  abort_on_timeout_count INTEGER,
  abort_on_data_count INTEGER,
  backlog_drop_count INTEGER,
  rcvq_drop_count INTEGER,
  time_wait_closed_count INTEGER,
  sockets_used_count INTEGER,
  tcp_inuse_count INTEGER,
  tcp_orphan_count INTEGER,
  tcp_tw_count INTEGER,
  tcp_alloc_count INTEGER,
  tcp_mem_pages INTEGER,
  udp_inuse_count INTEGER,
  udp_mem_pages INTEGER,
  established_count INTEGER,
  syn_sent_count INTEGER,
  syn_recv_count INTEGER,
  fin_wait1_count INTEGER,
  fin_wait2_count INTEGER,
  time_wait_count INTEGER,
  close_count INTEGER,
  close_wait_count INTEGER,
  last_ack_count INTEGER,
  listen_count INTEGER,
  closing_count INTEGER
) WITHOUT ROWID;

CREATE TABLE pressure_resource (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
INSERT INTO pressure_resource(id, name) VALUES (0, 'cpu'), (1, 'memory'), (2, 'io'), (3, 'irq');

-- /proc/pressure/<resource>: the kernel's 10 s averages in hundredths of a
-- percent (gauges) and stall time as deltas over dur_ms. NULL: the kernel
-- has no such line (cpu "full" before 5.13; irq has only "full").
CREATE TABLE psi (
  ts              INTEGER NOT NULL,
  resource_id     INTEGER NOT NULL,
  dur_ms          INTEGER NOT NULL,
  some_avg10_x100 INTEGER,
  full_avg10_x100 INTEGER,
  some_stall_us   INTEGER,
  full_stall_us   INTEGER,
  PRIMARY KEY (ts, resource_id)
) WITHOUT ROWID;

-- /proc/vmstat events as deltas over dur_ms. pgscan/pgsteal/allocstall and
-- workingset_refault are summed over the kernel's per-zone or per-type
-- variants. NULL: not reported by this kernel (oom_kill before 4.13, thp_*
-- without CONFIG_TRANSPARENT_HUGEPAGE).
CREATE TABLE vmstat (
  ts     INTEGER PRIMARY KEY,
  dur_ms INTEGER NOT NULL,
  pgpgin_kb INTEGER,
  pgpgout_kb INTEGER,
  pswpin_pages INTEGER,
  pswpout_pages INTEGER,
  pgfault_count INTEGER,
  pgmajfault_count INTEGER,
  pgscan_kswapd_pages INTEGER,
  pgscan_direct_pages INTEGER,
  pgsteal_kswapd_pages INTEGER,
  pgsteal_direct_pages INTEGER,
  allocstall_count INTEGER,
  oom_kill_count INTEGER,
  workingset_refault_pages INTEGER,
  compact_stall_count INTEGER,
  compact_fail_count INTEGER,
  thp_fault_alloc_count INTEGER,
  thp_fault_fallback_count INTEGER,
  thp_collapse_alloc_count INTEGER,
  thp_split_page_count INTEGER
) WITHOUT ROWID;

-- Boots by /proc/sys/kernel/random/boot_id: kernel log sequence numbers
-- start over at every boot.
CREATE TABLE kmsg_boot (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);

-- /dev/kmsg records. ts and time_us: the record's kernel time converted to
-- the wall clock (epoch s and µs). priority is the level (0 emerg ... 7
-- debug), facility the syslog facility (0 kern ...). message is unescaped;
-- dict holds the record's KEY=value lines (SUBSYSTEM=, DEVICE=), or NULL.
CREATE TABLE kmsg (
  ts       INTEGER NOT NULL,
  boot_id  INTEGER NOT NULL,
  seq      INTEGER NOT NULL,
  time_us  INTEGER NOT NULL,
  priority INTEGER NOT NULL,
  facility INTEGER NOT NULL,
  message  TEXT NOT NULL,
  dict     TEXT,
  PRIMARY KEY (ts, boot_id, seq)
) WITHOUT ROWID;

-- The last sequence number stored per boot, so a restarted daemon resumes
-- after it and stores nothing twice.
CREATE TABLE kmsg_resume (
  boot_id  INTEGER PRIMARY KEY,
  last_seq INTEGER NOT NULL
);

-- Kernel log records not stored, per tick (only ticks with a loss):
-- lost_count were overwritten in the kernel's buffer before they were read
-- (sequence gaps, EPIPE); dropped_count did not fit the daemon's bounded
-- buffer between two ticks.
CREATE TABLE kmsg_loss (
  ts            INTEGER PRIMARY KEY,
  lost_count    INTEGER NOT NULL,
  dropped_count INTEGER NOT NULL
) WITHOUT ROWID;

-- Host inventory as a history of changes: a row per key whose value changed
-- (checked at start and every 10 minutes); value NULL when the key went
-- away (a disk or NIC removed). Keys: host.hostname, kernel.release,
-- kernel.version, boot.id, boot.time, cpu.model, cpu.sockets, cpu.cores,
-- cpu.threads, cpu.flags, memory.total_kb, numa.nodeN.memory_kb,
-- disk.<name>.{model,size_bytes,rotational}, nic.<if>.{driver,mac,speed_mbps}.
CREATE TABLE inventory (
  ts    INTEGER NOT NULL,
  key   TEXT NOT NULL,
  value TEXT,
  PRIMARY KEY (ts, key)
) WITHOUT ROWID;
