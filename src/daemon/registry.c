/* The collector registry: which collectors run, in which order, with which
 * options, and what they read, write and provide. */
#include <stddef.h>
#include <string.h>

#include "bpf/ebpf.h"
#include "collect/cgroup.h"
#include "collect/disk.h"
#include "collect/fs.h"
#include "collect/inventory.h"
#include "collect/kmsg.h"
#include "collect/loadavg.h"
#include "collect/meminfo.h"
#include "collect/net.h"
#include "collect/procs.h"
#include "collect/psi.h"
#include "collect/stat.h"
#include "collect/tcp.h"
#include "collect/vmstat.h"
#include "daemon/config.h"
#include "daemon/registry.h"

#define OPTIONS(member) offsetof(struct config, member)

/* In sample order. bpf feeds the exits it saw to the process accounting,
 * which procs then scans and writes: bpf must come first. */
const struct collector_entry collector_registry[] = {
    {.ops = &collector_cpu,
     .options = NO_OPTIONS,
     .sources = "/proc/stat, /proc/sys/kernel/random/boot_id",
     .tables = "cpu kernel_activity boot",
     .views = "cpu_usage cpu_per_core",
     .summary = "time per CPU mode, all CPUs and each; context switches, interrupts, forks, "
		"running and blocked tasks; boot time"},
    {.ops = &collector_memory,
     .options = NO_OPTIONS,
     .sources = "/proc/meminfo",
     .tables = "memory",
     .views = "memory_usage",
     .summary = "total, free, available, buffers, cached, swap, dirty, slab, huge pages and the "
		"rest of meminfo (KiB)"},
    {.ops = &collector_load,
     .options = NO_OPTIONS,
     .sources = "/proc/loadavg",
     .tables = "loadavg",
     .views = "load",
     .summary = "1, 5 and 15-minute load, runnable and total threads"},
    {.ops = &collector_net,
     .options = NO_OPTIONS,
     .sources = "/proc/net/dev, /sys/class/net/<if>/",
     .tables = "net net_link net_interface",
     .views = "net_rates",
     .summary = "all 16 counters per interface as deltas; mtu, speed, operstate, carrier when "
		"they change"},
    {.ops = &collector_disk,
     .options = OPTIONS(disk),
     .sources = "/proc/diskstats, /sys/block",
     .tables = "disk disk_device",
     .views = "disk_io",
     .summary = "reads, writes, bytes, time, in-flight, discards and flushes per disk and "
		"partition; loop and RAM disks only when configured"},
    {.ops = &collector_fs,
     .options = NO_OPTIONS,
     .sources = "/proc/1/mountinfo (or self), statvfs",
     .tables = "filesystem filesystem_mount",
     .views = "filesystem_usage",
     .summary = "size, free, available and inodes per real filesystem"},
    {.ops = &collector_tcp,
     .options = NO_OPTIONS,
     .sources = "/proc/net/snmp, /proc/net/netstat, /proc/net/sockstat, sock_diag netlink "
		"(/proc/net/tcp{,6} under another proc root)",
     .tables = "tcp_stat",
     .views = "tcp",
     .summary = "TCP and UDP counters as deltas, socket gauges; connections by TCP state every "
		"6th tick"},
    {.ops = &collector_psi,
     .options = NO_OPTIONS,
     .sources = "/proc/pressure/{cpu,memory,io,irq}",
     .tables = "psi pressure_resource",
     .views = "pressure",
     .summary = "some/full stall averages and stall time; off when the kernel has no PSI"},
    {.ops = &collector_vmstat,
     .options = NO_OPTIONS,
     .sources = "/proc/vmstat",
     .tables = "vmstat",
     .views = "vmstat_rates",
     .summary = "faults, paging, swapping, reclaim, allocation stalls, OOM kills, refaults, "
		"compaction and THP as deltas"},
    {.ops = &collector_kmsg,
     .options = NO_OPTIONS,
     .opens_slowly = 1,
     .sources = "/dev/kmsg",
     .tables = "kmsg kmsg_boot kmsg_resume kmsg_loss",
     .views = "kernel_log",
     .summary = "every kernel log record, resumed across restarts; lost records counted"},
    {.ops = &collector_inventory,
     .options = NO_OPTIONS,
     .opens_slowly = 1,
     .sources = "/proc/sys/kernel/*, /proc/stat, /proc/cpuinfo, /proc/meminfo, "
		"/sys/devices/system/node, /sys/block, /sys/class/net",
     .tables = "inventory",
     .views = "host_inventory inventory_changes",
     .summary = "hostname, kernel, boot, CPU, memory, NUMA nodes, disks, NICs: a row per key "
		"whose value changed"},
    {.ops = &collector_cgroup,
     .options = OPTIONS(cgroups),
     .opens_slowly = 1,
     .sources = "/sys/fs/cgroup (cgroup2, and v1 cpu, cpuacct, memory, blkio, pids), "
		"inotify; container runtimes' files under cgroups.runtime_root",
     .tables = "cgroup cgroup_cpu_stat cgroup_memory_stat cgroup_io_stat cgroup_pressure_stat "
	       "cgroup_limit cgroup_scan",
     .views = "cgroup_cpu cgroup_memory cgroup_io cgroup_pressure cgroup_tree",
     .summary = "every cgroup (systemd unit, container, pod) with its CPU, throttling, memory, "
		"OOM events, I/O per device, pressure and limits; idle cgroups write nothing"},
    {.ops = &collector_bpf,
     .options = OPTIONS(bpf),
     .opens_slowly = 1,
     .role = ROLE_FEEDS_ACCOUNTING,
     .sources = "eBPF raw tracepoints (sched_process_exec/exit/fork, sched_switch, mark_victim, "
		"tcp_retransmit_skb; sys_exit with bpf.syscalls or bpf.failed_execs)",
     .tables = "bpf_tick bpf_state kernel_counters exec_event process_exit oom_kill "
	       "bpf_program bpf_program_cost",
     .views = "kernel_events exec_log exec_log_all process_exits oom_kills",
     .summary = "every exec and process exit with its usage, OOM kills, kernel event counters; "
		"exits go to the process groups"},
    {.ops = &collector_procs,
     .options = OPTIONS(procs),
     .opens_slowly = 1,
     .role = ROLE_WRITES_ACCOUNTING,
     .sources = "/proc/PID/{stat,status,io,schedstat,limits,fd,cmdline,exe}",
     .tables = "proc_group group_sample process process_top procs_scan",
     .views = "group_cpu group_memory group_io group_tasks top_processes",
     .summary = "per process group: CPU, I/O, faults, switches, memory, fds, states; the top "
		"processes; a row per process"},
};
const size_t collector_registry_len = ARRAY_LEN(collector_registry);

const char daemon_tables[] = "agent agent_collector collector meta view_catalog series_column "
			     "event_table dimension_table rollup_state prune_state metric_family "
			     "metric_key metric_column remote_write_state";
const char daemon_views[] = "agent_health";
static const char daemon_summary[] =
    "its own tick time and CPU per collector, RSS, rows, errors, failed commits; the "
    "schema, the views, the retention state and what remote write sent";

int registry_lists(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
	return 0;
}

int registry_check(const struct collector_entry *r, size_t n, struct err *e)
{
	size_t writer = n, last_feeder = n;
	for (size_t i = 0; i < n; i++) {
		const struct collector_ops *o = r[i].ops;
		if (!o || !o->name || !o->open || !o->sample || !o->close)
			return err_set(e,
				       "registry line %zu: a collector needs a name, open, sample "
				       "and close",
				       i + 1);
		for (size_t j = 0; j < i; j++)
			if (strcmp(r[j].ops->name, o->name) == 0)
				return err_set(e, "registry: collector %s is listed twice",
					       o->name);
		if (r[i].role == ROLE_WRITES_ACCOUNTING) {
			if (writer < n)
				return err_set(e, "registry: both %s and %s write the accounting",
					       r[writer].ops->name, o->name);
			writer = i;
		}
		if (r[i].role == ROLE_FEEDS_ACCOUNTING) {
			if (writer < n)
				return err_set(e,
					       "registry: %s feeds the process accounting after %s "
					       "has written it",
					       o->name, r[writer].ops->name);
			last_feeder = i;
		}
	}
	if (last_feeder < n && writer == n)
		return err_set(e, "registry: %s feeds the process accounting, which nothing writes",
			       r[last_feeder].ops->name);
	return 0;
}

const char *registry_view_collector(const char *view)
{
	for (size_t i = 0; i < collector_registry_len; i++)
		if (registry_lists(collector_registry[i].views, view))
			return collector_registry[i].ops->name;
	return NULL;
}

int registry_format_by_name(const char *name, enum registry_format *out)
{
	static const char *const names[] = {"text", "names", "markdown"};
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (strcmp(name, names[i]) == 0) {
			*out = (enum registry_format)i;
			return 0;
		}
	return -1;
}

/* A space-separated list as "a, b, c" (wrapped in backquotes for Markdown). */
static void print_list(FILE *out, const char *list, int code)
{
	const char *q = code ? "`" : "";
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, " ");
		fprintf(out, "%s%s%.*s%s", p == list ? "" : ", ", q, (int)n, p, q);
		p += n;
		p += *p == ' ';
	}
}

/* One collector (or the daemon) as a few indented lines. */
static void print_text_entry(FILE *out, const char *name, const char *summary, const char *sources,
			     const char *tables, const char *views)
{
	fprintf(out, "%s: %s\n  reads   %s\n  tables  ", name, summary, sources);
	print_list(out, tables, 0);
	fputs("\n  views   ", out);
	print_list(out, views, 0);
	fputs("\n", out);
}

/* Text in a Markdown table cell, with what Markdown would take for markup
 * escaped. */
static void print_md_text(FILE *out, const char *text)
{
	for (const char *p = text; *p; p++) {
		if (strchr("*<>|_`", *p))
			fputc('\\', out);
		fputc(*p, out);
	}
}

static void print_markdown(FILE *out)
{
	fputs("| collector | sources | tables | views | what |\n|---|---|---|---|---|\n", out);
	for (size_t i = 0; i < collector_registry_len; i++) {
		const struct collector_entry *c = &collector_registry[i];
		fprintf(out, "| %s | ", c->ops->name);
		print_md_text(out, c->sources);
		fputs(" | ", out);
		print_list(out, c->tables, 1);
		fputs(" | ", out);
		print_list(out, c->views, 1);
		fputs(" | ", out);
		print_md_text(out, c->summary);
		fputs(" |\n", out);
	}
	fputs("| hindsightd | itself | ", out);
	print_list(out, daemon_tables, 1);
	fputs(" | ", out);
	print_list(out, daemon_views, 1);
	fprintf(out, " | %s |\n", daemon_summary);
}

void registry_print(FILE *out, enum registry_format f)
{
	switch (f) {
	case REGISTRY_NAMES:
		for (size_t i = 0; i < collector_registry_len; i++)
			fprintf(out, "%s\n", collector_registry[i].ops->name);
		break;
	case REGISTRY_MARKDOWN:
		print_markdown(out);
		break;
	case REGISTRY_TEXT:
		for (size_t i = 0; i < collector_registry_len; i++) {
			const struct collector_entry *c = &collector_registry[i];
			print_text_entry(out, c->ops->name, c->summary, c->sources, c->tables,
					 c->views);
		}
		print_text_entry(out, "hindsightd", daemon_summary, "itself", daemon_tables,
				 daemon_views);
		break;
	}
}
