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
