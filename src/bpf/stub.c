/* Stands in for the eBPF collector (src/bpf/collector.c) in a build without
 * eBPF: every tick records state 'not built' in bpf_tick, so the database says
 * why there are no exec or exit records. */
#ifndef HINDSIGHT_HAVE_BPF
#include <stdlib.h>

#include "bpf/ebpf.h"
#include "bpf/records.h"
#include "collect/collect.h"

static int stub_open(void **state, const struct collector_env *env, const void *options,
		     struct err *e)
{
	struct store *st = env->store;
	sqlite3_stmt *ins =
	    store_prepare(st,
			  "INSERT INTO bpf_tick(ts, dur_ms, state_id, events_count, "
			  "ring_drops_count, buffer_drops_count, exec_drops_count) "
			  "VALUES (?,?,?,0,0,0,0)",
			  e);
	if (!ins)
		return -1;
	*state = ins;
	log_info("eBPF collectors not built into this binary (HINDSIGHT_BPF=OFF or clang, "
		 "bpftool or libbpf missing at build time)");
	return 0;
}

static int stub_sample(void *state, struct tick *t, struct err *e)
{
	sqlite3_stmt *ins = state;
	int64_t v[] = {t->ts, t->dur_ms, BPF_STATE_NOT_BUILT};
	bind_int64s(ins, 1, v, 3);
	t->rows++;
	return store_exec_stmt(t->store, ins, e);
}

static void stub_close(void *state)
{
	/* The statement belongs to the store. */
}

const struct collector_ops collector_bpf = {
    .name = "bpf",
    .open = stub_open,
    .sample = stub_sample,
    .close = stub_close,
};
#endif
