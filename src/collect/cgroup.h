#ifndef HINDSIGHT_COLLECT_CGROUP_H
#define HINDSIGHT_COLLECT_CGROUP_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/*
 * Control groups: services, containers and pods as the kernel accounts for
 * them (docs/cgroups.md). Three files share this header:
 *   cgroup_parse.c  the pure parsers of the cgroup files and of
 *                   /proc/PID/cgroup, the hierarchies and the cgroup id;
 *   cgroup_name.c   what a cgroup is, from its path (systemd unit,
 *                   container, pod) and the runtimes' files on disk;
 *   cgroup.c        the collector.
 */

/* ---- options (the cgroups: section of the configuration) ---- */

struct cgroup_options {
	int enabled;
	/* Where the container runtimes keep their state (/var/lib/docker,
	 * /run/containerd, /var/log/pods): "/" on the host, the host's root
	 * where it is mounted in a container. */
	char runtime_root[PATH_MAX];
	int64_t refresh_ms;	/* idle cgroups' memory, I/O, pressure and limits at
				   least this often */
	int64_t max_cgroups;	/* cgroups tracked at most; more are counted */
	int64_t max_open_files; /* cgroup files kept open between ticks */
};
void cgroup_options_default(struct cgroup_options *o);

/* ---- the hierarchies ---- */

/* Controllers hindsight reads, as bits. */
enum {
	CG_CPU = 1,	/* cpu: throttling (v1 cpu.stat), quota */
	CG_CPUACCT = 2, /* cpuacct: usage (v1) */
	CG_MEMORY = 4,
	CG_IO = 8, /* io (v2), blkio (v1) */
	CG_PIDS = 16,
};
#define CG_MAX_HIERS 8

struct cg_hier {
	int fd;	       /* its root directory */
	int v2;	       /* cgroup2 */
	unsigned ctrl; /* v1: the controllers it has (by its name) */
	int num;       /* v1: 1 + the bit of its first controller, for ids */
	int cgroupfs;  /* a cgroup file system (not a copy in plain files) */
	char name[64]; /* the directory under <sys>/fs/cgroup, "" for pure v2 */
};

struct cg_hiers {
	struct cg_hier h[CG_MAX_HIERS]; /* the v2 hierarchy first, then v1 by controller */
	size_t n;
	int v2; /* index of the cgroup2 hierarchy, -1 when none is mounted */
};

/* Finds the hierarchies under <sys_fd>/fs/cgroup: a cgroup2 file system
 * there (pure v2), or one directory per hierarchy (v1, and cgroup2 as
 * "unified" on hybrid hosts), v1 controllers named by their directory.
 * Symbolic links (cpu -> cpu,cpuacct) and hierarchies without a controller
 * hindsight reads are left out. n = 0 when there is none. */
int cg_hiers_open(struct cg_hiers *hs, int sys_fd, struct err *e);
void cg_hiers_close(struct cg_hiers *hs);

/* The kernel's cgroup id of a cgroup directory: for cgroup2 the directory's
 * inode number, which is what bpf_get_current_cgroup_id() returns; a
 * cgroup that exists only in v1 hierarchies has no such id, and is given
 * -(num << 40 | inode) of the first hierarchy it is in. 0: not found. */
int64_t cg_identity(const struct cg_hiers *hs, const char *path, int64_t *mtime_s);
#define CG_V1_ID(num, ino) (-(int64_t)(((uint64_t)(num) << 40) | ((uint64_t)(ino)&0xffffffffffULL)))

/* One line of /proc/PID/cgroup: "hierarchy-id:controllers:path". */
struct cg_proc_line {
	long hier_id;
	const char *controllers, *path; /* not NUL-terminated */
	size_t clen, plen;
};
#define CG_PROC_LINES_MAX 32
int cg_parse_proc_cgroup(const char *text, struct cg_proc_line *out, size_t max, size_t *n,
			 struct err *e);
/* The id (as cg_identity) of the cgroup a process is in, from its
 * /proc/PID/cgroup text: its cgroup2 path when cgroup2 is mounted, else its
 * path in the first v1 hierarchy. 0 when unknown. */
int64_t cg_proc_cgroup_id(const struct cg_hiers *hs, const char *text);

/* ---- pure parsers of the cgroup files ---- */

/* Flat-keyed files, "key value" per line (cpu.stat, memory.stat,
 * memory.events, cgroup.events, cpuacct.stat, memory.oom_control): the
 * values of keys[] (at most 64) into out[], found bit i set for each key
 * present; other keys are skipped. A malformed line or value is an error. */
int cg_parse_keyed(const char *text, const char *what, const char *const *keys, size_t nkeys,
		   uint64_t *out, uint64_t *found, struct err *e);

/* A one-value file: a number, or "max" (and -1, v1's "no quota"), which
 * give CG_NO_LIMIT. */
#define CG_NO_LIMIT UINT64_MAX
int cg_parse_value(const char *text, const char *what, uint64_t *out, struct err *e);
/* cpu.max: "$QUOTA $PERIOD", quota "max" for none. */
int cg_parse_cpu_max(const char *text, const char *what, uint64_t *quota, uint64_t *period,
		     struct err *e);

/* I/O per device: rbytes, wbytes, rios, wios, dbytes, dios. */
enum { CG_IO_RBYTES, CG_IO_WBYTES, CG_IO_RIOS, CG_IO_WIOS, CG_IO_DBYTES, CG_IO_DIOS, CG_IO_N };
struct cg_io {
	uint32_t major, minor;
	uint64_t v[CG_IO_N];
	uint8_t known; /* bit per value the source reports */
};
#define CG_IO_DEVS_MAX 64
/* v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6". */
int cg_parse_io_stat(const char *text, const char *what, struct cg_io *out, size_t max, size_t *n,
		     struct err *e);
/* v1 blkio.throttle.io_service_bytes_recursive (ios 0) or
 * io_serviced_recursive (ios 1): "8:0 Read 4096" lines and a "Total" line.
 * Adds to out[] (devices found or appended), so both files fill one set. */
int cg_parse_blkio(const char *text, const char *what, int ios, struct cg_io *out, size_t max,
		   size_t *n, struct err *e);

/* ---- what a cgroup is (cgroup_name.c) ---- */

enum cg_kind {
	CG_KIND_ROOT,
	CG_KIND_SLICE,
	CG_KIND_SERVICE,
	CG_KIND_SCOPE,
	CG_KIND_UNIT, /* another systemd unit type (socket, mount, swap) */
	CG_KIND_CONTAINER,
	CG_KIND_POD,
	CG_KIND_CGROUP, /* a plain directory */
};
const char *cg_kind_name(enum cg_kind k);

#define CG_TEXT_MAX 256
struct cg_label {
	enum cg_kind kind;
	char name[CG_TEXT_MAX];		/* what it is: unit, runtime:short id, pod:uid, last part */
	char unit[CG_TEXT_MAX];		/* the systemd unit it is or is in */
	char runtime[16];		/* docker, containerd, cri-o, podman, lxc; "" unknown */
	char container_id[CG_TEXT_MAX]; /* the container it is or is in */
	char pod_uid[64];		/* the Kubernetes pod it is or is in */
	char qos[16];			/* guaranteed, burstable, besteffort */
};
/* Names a cgroup from its path ("/system.slice/nginx.service"): systemd
 * units, Docker, containerd, CRI-O and Podman containers (systemd and
 * cgroupfs layouts), Kubernetes pods and QoS classes, LXC. Pure. */
void cgroup_label(const char *path, struct cg_label *out);

/* What the container runtime's files on disk say. */
struct cg_meta {
	char container_name[CG_TEXT_MAX];
	char image[CG_TEXT_MAX];
	char pod_name[CG_TEXT_MAX]; /* namespace/name */
};
/* Docker's containers/<id>/config.v2.json: Name and Config.Image. */
void cg_meta_docker(const char *json, size_t len, struct cg_meta *m);
/* An OCI bundle's config.json (containerd, CRI-O, nerdctl): the
 * annotations naming the container, its image and its pod. */
void cg_meta_oci(const char *json, size_t len, struct cg_meta *m);
/* A /var/log/pods entry "<namespace>_<name>_<uid>": 1 and
 * "<namespace>/<name>" in out when it is uid's. */
int cg_pod_log_dir(const char *entry, const char *uid, char *out, size_t n);
/* Reads what is on disk under root_fd (the runtime root) for a container or
 * pod label; leaves m empty when nothing is readable. Never a network call. */
void cg_meta_read(int root_fd, const struct cg_label *l, struct buf *b, struct cg_meta *m);

struct collector_ops;
extern const struct collector_ops collector_cgroup;

#endif
