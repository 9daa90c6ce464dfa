/* hindsight replay: one screen per tick of the stored history, as atop -r
 * and below replay show theirs. Three parts: replay_data.c reads one tick
 * through the saved views (a few short statements, no transaction kept),
 * replay_layout.c turns a tick and the screen's state into lines of text
 * (pure, so tests check it without a terminal), cmd_replay.c draws them
 * with ncurses and reads the keys. */
#ifndef HINDSIGHT_QUERY_REPLAY_H
#define HINDSIGHT_QUERY_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "query/query.h"

/* A process, a process group or a service (cgroup) in one tick. */
struct rp_row {
	int64_t pid;	  /* processes; 0 for the others */
	char name[64];	  /* comm, group name or service */
	char group[64];	  /* a process's group, a service's kind */
	char cmd[256];	  /* a process's command line */
	double cpu_pct;	  /* of one core */
	int64_t rss_kb;	  /* -1: unknown */
	int64_t procs;	  /* a group's processes; -1: unknown */
	double read_bps;  /* -1: unknown */
	double write_bps; /* -1: unknown */
};

struct rp_list {
	struct rp_row *rows;
	size_t n, cap;
};

/* A disk or a network interface: read/rx and write/tx bytes per second. */
struct rp_dev {
	char name[32];
	double in_bps, out_bps;
	double util_pct, wait_ms; /* disks */
	int64_t errors, drops;	  /* interfaces */
};

struct rp_event {
	int64_t ts;
	char kind[12]; /* the kernel log's level, "oom", "killed" */
	char text[240];
};

#define RP_MAX_DEV    8
#define RP_MAX_PSI    4
#define RP_MAX_EVENTS 48

/* The views the screen reads, and whether each may be read. */
enum rp_view {
	RV_AGENT,
	RV_CPU,
	RV_MEM,
	RV_LOAD,
	RV_PSI,
	RV_DISK,
	RV_NET,
	RV_GROUPS,
	RV_SERVICES,
	RV_PROCS,
	RV_KLOG,
	RV_OOM,
	RV_EXITS,
	RV_EXECS,
	RV_NVIEWS
};
extern const char *const rp_view_names[RV_NVIEWS];

/* What the screen shows of one tick; a section whose view is not ready
 * carries the catalog's note instead. */
struct rp_tick {
	int64_t ts, dur_ms;
	int64_t lo;		  /* events are those in (lo, ts] */
	int tier;		  /* the tier the tick was read from */
	char note[RV_NVIEWS][80]; /* "" when the view is read */
	int has_cpu, has_mem, has_load;
	double busy, user, sys, iowait, steal, irq;
	int64_t mem_total_kb, mem_used_kb, mem_avail_kb, mem_cache_kb, mem_dirty_kb;
	int64_t swap_used_kb, swap_total_kb;
	double load1, load5, load15;
	int64_t runnable, threads, blocked, forks;
	int npsi;
	struct {
		char resource[12];
		double some_pct, full_pct;
	} psi[RP_MAX_PSI];
	int ndisk, nnet;
	struct rp_dev disk[RP_MAX_DEV], net[RP_MAX_DEV];
	struct rp_list groups, services, procs;
	int nevents;
	struct rp_event events[RP_MAX_EVENTS];
	int64_t execs, exits; /* in the tick */
	char ended[200];      /* the programs that ended most: "bash x20, cc1 x3" */
};

/* The reader: the connection, its plan and what it knows of the views. */
struct rp_source {
	struct qdb q;
	int tier;		  /* the resolution asked for: TIER_RAW, TIER_1M, TIER_1H */
	int ready[RV_NVIEWS];	  /* view_state said VIEW_READY */
	char note[RV_NVIEWS][80]; /* and what it said otherwise */
	char host[64];
};

/* Opens the database, learns which views it has, plans for tier. */
int rp_open(struct rp_source *s, const struct qopts *o, int tier, struct err *e);
void rp_close(struct rp_source *s);
/* Re-reads the plan (the daemon rolls up and prunes as it runs), for the
 * resolution s->tier. */
int rp_replan(struct rp_source *s, struct err *e);
/* The tick the screen shows for a time: the first at or after ts (the
 * sample covering ts), else the newest before it; -1 when there is none. */
int64_t rp_settle(struct rp_source *s, int64_t ts);
/* The next tick after ts (dir > 0) or the one before (dir < 0); -1: none. */
int64_t rp_step(struct rp_source *s, int64_t ts, int dir);
/* The newest tick; -1 when there is none. */
int64_t rp_newest(struct rp_source *s);
/* Reads the tick at ts into t (freeing what t held). */
int rp_load(struct rp_source *s, int64_t ts, struct rp_tick *t, struct err *e);
void rp_tick_free(struct rp_tick *t);

/* ---- the screen (replay_layout.c) ---- */

enum rp_sort { SORT_CPU, SORT_MEM, SORT_IO };

struct rp_ui {
	enum rp_sort sort;
	char filter[64]; /* "" for none */
	int tier;	 /* the resolution asked for */
	int following;	 /* showing the newest tick, and moving with it */
	int help;	 /* the help is shown */
	int64_t newest;	 /* the newest tick, -1: none */
	char host[64];
	char message[160]; /* a one-off note for the last line */
	char prompt[96];   /* a prompt being typed on the last line: its label */
	char input[96];	   /* and what has been typed */
};

enum rp_attr { RA_PLAIN, RA_BAR, RA_TITLE, RA_HEAD, RA_HOT };

struct rp_line {
	char text[512]; /* UTF-8, at most the screen's width in columns */
	enum rp_attr attr;
};

/* Lays out rows lines of cols columns (both at least 1) for tick t (NULL:
 * no tick to show) and the state ui. Sorts and filters t's lists in place.
 * Returns the number of lines filled (rows). */
int rp_layout(struct rp_tick *t, const struct rp_ui *ui, int cols, int rows, struct rp_line *out);
/* Whether a row matches the filter (name, group or command, any case). */
int rp_row_matches(const struct rp_row *r, const char *filter);

#endif
