// SPDX-License-Identifier: GPL-2.0
/* hindsight's kernel side: exec and exit records, OOM victims, and per-CPU
 * counters of task, file, syscall and TCP events. Only raw tracepoints, so no
 * tracefs mount and no kprobes are needed. Which families run is decided by
 * the loader (autoload) and by the read-only flags below. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before load; the verifier prunes what they turn off. */
const volatile __u32 args_max = 256; /* power of two <= HS_ARGS_MAX */
const volatile bool want_exec_events = true;
const volatile bool want_exit_events = true;
const volatile bool count_tasks = true;
const volatile bool count_syscalls = true;
const volatile bool want_failed_execs = true;
/* The daemon reads the ring at every tick anyway; it is woken in between
 * only when this much is waiting. A wakeup per record would cost an
 * interrupt (an exit to the hypervisor on a VM) for every exec and exit. */
const volatile __u64 wakeup_bytes = 1 << 20;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20); /* resized by the loader */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HS_C_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* An exec record is too big for the BPF stack; it is built here. The slack
 * after it lets a string read start anywhere in args without the verifier
 * having to prove it ends inside. */
struct exec_scratch {
	struct hs_exec e;
	char slack[HS_ARGS_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_scratch);
} scratch SEC(".maps");

static __always_inline void count(__u32 slot, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &slot);
	if (v)
		*v += n;
}

/* Whether to wake the daemon for this record. The bytes waiting are also
 * the ring's fill level: its peak is what bpf.ring_kb is sized by. */
static __always_inline __u64 wakeup_flag(void)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u32 slot = HS_C_RING_PEAK;
	__u64 *peak = bpf_map_lookup_elem(&counters, &slot);
	if (peak && avail > *peak)
		*peak = avail;
	return avail >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/* Sends an exec record; a full ring buffer is counted, never silent. */
static __always_inline void send(void *rec, __u64 size)
{
	if (bpf_ringbuf_output(&events, rec, size, wakeup_flag())) {
		count(HS_C_RING_DROPS, 1);
		count(HS_C_EXEC_RING_DROPS, 1);
	}
}

static __always_inline struct hs_exec *exec_record(__u32 type)
{
	__u32 zero = 0;
	struct exec_scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return NULL;
	struct hs_exec *e = &s->e;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	e->h.type = type;
	e->h.pid = bpf_get_current_pid_tgid() >> 32;
	e->h.time_ns = bpf_ktime_get_boot_ns();
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->ret = 0;
	e->args_len = 0;
	e->args_truncated = 0;
	e->filename[0] = '\0';
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	/* who started it: a successful exec's comm is already the new program's */
	BPF_CORE_READ_STR_INTO(&e->parent_comm, task, real_parent, comm);
	return e;
}

/* args_len <= HS_ARGS_MAX always; the mask after the barrier only shows the
 * verifier that the read stays inside the scratch value (record + slack). */
static __always_inline void send_exec(struct hs_exec *e)
{
	__u64 len = e->args_len;
	barrier_var(len);
	len &= 2 * HS_ARGS_MAX - 1;
	send(e, offsetof(struct hs_exec, args) + len);
}

/* argv of the new image: the kernel just copied it between arg_start and
 * arg_end of the new mm, so it is resident and can be read in one go. */
SEC("raw_tp/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	if (count_tasks)
		count(HS_C_EXECS, 1);
	if (!want_exec_events)
		return 0;
	struct hs_exec *e = exec_record(HS_EV_EXEC);
	if (!e)
		return 0;
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), BPF_CORE_READ(bprm, filename));
	struct mm_struct *mm = BPF_CORE_READ(p, mm);
	unsigned long start = BPF_CORE_READ(mm, arg_start);
	unsigned long end = BPF_CORE_READ(mm, arg_end);
	__u64 len = end > start ? end - start : 0;
	if (len > args_max) {
		len = args_max;
		e->args_truncated = 1;
	}
	if (len > HS_ARGS_MAX)
		len = HS_ARGS_MAX;
	if (len && bpf_probe_read_user(e->args, len, (void *)start) == 0)
		e->args_len = len;
	send_exec(e);
	return 0;
}

#define FAILED_EXEC_MAX_ARGS 20

/* A failed execve/execveat: the old image is intact, so its registers still
 * hold the filename and argv pointers the caller passed. */
static __always_inline void failed_exec(struct pt_regs *regs, long nr, long ret)
{
	struct hs_exec *e = exec_record(HS_EV_EXEC_FAILED);
	if (!e)
		return;
	e->ret = ret;
	const char *filename;
	const char *const *argv;
	if (nr == 59) { /* execve(filename, argv, envp) */
		filename = (const char *)BPF_CORE_READ(regs, di);
		argv = (const char *const *)BPF_CORE_READ(regs, si);
	} else { /* execveat(dirfd, filename, argv, envp, flags) */
		filename = (const char *)BPF_CORE_READ(regs, si);
		argv = (const char *const *)BPF_CORE_READ(regs, dx);
	}
	bpf_probe_read_user_str(e->filename, sizeof(e->filename), filename);
	__u32 off = 0;
	for (int i = 0; i < FAILED_EXEC_MAX_ARGS && argv; i++) {
		const char *arg = NULL;
		if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i]) || !arg)
			break;
		if (off >= args_max || off >= HS_ARGS_MAX) {
			e->args_truncated = 1;
			break;
		}
		/* The mask must survive the compiler, which knows off is small
		 * already; the verifier does not. */
		__u32 at = off & (HS_ARGS_MAX - 1);
		asm volatile("" : "+r"(at));
		at &= HS_ARGS_MAX - 1;
		long n = bpf_probe_read_user_str(&e->args[at], HS_ARGS_MAX, arg);
		if (n <= 0)
			break;
		off += n;
	}
	if (off > args_max) {
		off = args_max;
		e->args_truncated = 1;
	}
	e->args_len = off > HS_ARGS_MAX ? HS_ARGS_MAX : off;
	send_exec(e);
}

/* x86_64 syscall numbers of the calls counted. */
enum {
	NR_read = 0,
	NR_write = 1,
	NR_open = 2,
	NR_close = 3,
	NR_pread64 = 17,
	NR_pwrite64 = 18,
	NR_readv = 19,
	NR_writev = 20,
	NR_execve = 59,
	NR_creat = 85,
	NR_openat = 257,
	NR_preadv = 295,
	NR_pwritev = 296,
	NR_execveat = 322,
	NR_preadv2 = 327,
	NR_pwritev2 = 328,
	NR_openat2 = 437,
};

static __always_inline void count_io(__u32 calls, __u32 bytes, __u32 errors, long ret)
{
	count(calls, 1);
	if (ret >= 0)
		count(bytes, ret);
	else
		count(errors, 1);
}

#define USER64_CS 0x33 /* the code segment of 64-bit user mode */

/* Every syscall passes here, so the common path is one read and a switch.
 * orig_ax, ip and cs follow each other in x86_64's pt_regs (the hardware's
 * frame), so one read gets the number and the mode; a 32-bit (ia32) caller
 * numbers its syscalls differently and is not counted. */
SEC("raw_tp/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs *regs, long ret)
{
	struct {
		unsigned long orig_ax, ip, cs;
	} r;
	if (bpf_probe_read_kernel(&r, sizeof(r), __builtin_preserve_access_index(&regs->orig_ax)) ||
	    r.cs != USER64_CS)
		return 0;
	long nr = (long)r.orig_ax;
	switch (nr) {
	case NR_read:
	case NR_pread64:
	case NR_readv:
	case NR_preadv:
	case NR_preadv2:
		if (count_syscalls)
			count_io(HS_C_READS, HS_C_READ_BYTES, HS_C_READ_ERRORS, ret);
		break;
	case NR_write:
	case NR_pwrite64:
	case NR_writev:
	case NR_pwritev:
	case NR_pwritev2:
		if (count_syscalls)
			count_io(HS_C_WRITES, HS_C_WRITE_BYTES, HS_C_WRITE_ERRORS, ret);
		break;
	case NR_open:
	case NR_openat:
	case NR_openat2:
	case NR_creat:
		if (count_syscalls) {
			count(HS_C_OPENS, 1);
			if (ret < 0)
				count(HS_C_OPENS_FAILED, 1);
		}
		break;
	case NR_close:
		if (count_syscalls)
			count(HS_C_CLOSES, 1);
		break;
	case NR_execve:
	case NR_execveat:
		if (ret < 0) {
			count(HS_C_EXECS_FAILED, 1);
			if (want_failed_execs)
				failed_exec(regs, nr, ret);
		}
		break;
	}
	return 0;
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	if (BPF_CORE_READ(child, pid) == BPF_CORE_READ(child, tgid))
		count(HS_C_PROCS_CREATED, 1);
	else
		count(HS_C_THREADS_CREATED, 1);
	return 0;
}

/* Usage of the whole thread group: the dead threads' share sits in the
 * signal struct, the last thread's in its task, and a group leader that
 * exited first stays a zombie holding its own share until the group is gone. */
static __always_inline void add_task_usage(struct hs_exit *e, struct task_struct *t)
{
	e->cpu_ns += BPF_CORE_READ(t, se.sum_exec_runtime);
	e->utime_ns += BPF_CORE_READ(t, utime);
	e->stime_ns += BPF_CORE_READ(t, stime);
	e->min_flt += BPF_CORE_READ(t, min_flt);
	e->maj_flt += BPF_CORE_READ(t, maj_flt);
	e->nvcsw += BPF_CORE_READ(t, nvcsw);
	e->nivcsw += BPF_CORE_READ(t, nivcsw);
	e->read_bytes += BPF_CORE_READ(t, ioac.read_bytes);
	e->write_bytes += BPF_CORE_READ(t, ioac.write_bytes);
}

/* An exit record waiting for its task's last context switch. */
struct pending_exit {
	struct hs_exit e;
	__u64 own_runtime_ns; /* the task's sum_exec_runtime when it was built */
};

/* The scheduler accounts a task's runtime at ticks and switches, so at
 * sched_process_exit the slice running since the last tick (up to a jiffy)
 * is still missing; for a short process that is most of its life. The record
 * is completed at the task's final switch (prev_state TASK_DEAD), where its
 * runtime is final. Keyed by thread id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct pending_exit);
} exiting SEC(".maps");

static __always_inline void send_exit(struct hs_exit *e)
{
	if (bpf_ringbuf_output(&events, e, sizeof(*e), wakeup_flag()))
		count(HS_C_RING_DROPS, 1);
}

static __always_inline void exit_record(struct task_struct *task, struct signal_struct *sig)
{
	struct pending_exit p;
	struct hs_exit *e = &p.e;
	__builtin_memset(&p, 0, sizeof(p));
	struct task_struct *leader = BPF_CORE_READ(task, group_leader);
	e->h.type = HS_EV_EXIT;
	e->h.pid = BPF_CORE_READ(task, tgid);
	e->h.time_ns = bpf_ktime_get_boot_ns();
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->start_boottime_ns = BPF_CORE_READ(leader, start_boottime);
	e->exit_code = BPF_CORE_READ(task, exit_code);
	e->cpu_ns = BPF_CORE_READ(sig, sum_sched_runtime);
	e->utime_ns = BPF_CORE_READ(sig, utime);
	e->stime_ns = BPF_CORE_READ(sig, stime);
	e->min_flt = BPF_CORE_READ(sig, min_flt);
	e->maj_flt = BPF_CORE_READ(sig, maj_flt);
	e->nvcsw = BPF_CORE_READ(sig, nvcsw);
	e->nivcsw = BPF_CORE_READ(sig, nivcsw);
	e->read_bytes = BPF_CORE_READ(sig, ioac.read_bytes);
	e->write_bytes = BPF_CORE_READ(sig, ioac.write_bytes);
	add_task_usage(e, task);
	if (leader != task)
		add_task_usage(e, leader);
	/* do_exit folds the mm's high-water mark into signal->maxrss for the
	 * last thread; take the mm's own figure too in case it has not yet. */
	__u64 maxrss = BPF_CORE_READ(sig, maxrss);
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	if (mm) {
		__u64 hw = BPF_CORE_READ(mm, hiwater_rss);
		if (hw > maxrss)
			maxrss = hw;
	}
	e->maxrss_pages = maxrss;
	BPF_CORE_READ_STR_INTO(&e->comm, leader, comm);
	p.own_runtime_ns = BPF_CORE_READ(task, se.sum_exec_runtime);
	__u32 tid = BPF_CORE_READ(task, pid);
	/* No room to wait: send it now, a little short, rather than lose it. */
	if (bpf_map_update_elem(&exiting, &tid, &p, BPF_ANY))
		send_exit(e);
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *task)
{
	struct signal_struct *sig = BPF_CORE_READ(task, signal);
	bool last = BPF_CORE_READ(sig, live.counter) == 0;
	if (count_tasks)
		count(last ? HS_C_PROC_EXITS : HS_C_THREAD_EXITS, 1);
	if (last && want_exit_events)
		exit_record(task, sig);
	return 0;
}

#define TASK_DEAD 0x80

/* Runs at every context switch, so it returns at once unless the task
 * leaving the CPU is dead (prev_state is an argument since Linux 5.18). */
SEC("raw_tp/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	if (prev_state != TASK_DEAD)
		return 0;
	__u32 tid = BPF_CORE_READ(prev, pid);
	struct pending_exit *p = bpf_map_lookup_elem(&exiting, &tid);
	if (!p)
		return 0;
	__u64 runtime = BPF_CORE_READ(prev, se.sum_exec_runtime);
	if (runtime > p->own_runtime_ns)
		p->e.cpu_ns += runtime - p->own_runtime_ns;
	send_exit(&p->e);
	bpf_map_delete_elem(&exiting, &tid);
	return 0;
}

static __always_inline __u64 rss_pages(struct mm_struct *mm, int member)
{
	/* The approximate global count of the per-CPU counter; as exact as the
	 * OOM report's own figures. */
	long v = BPF_CORE_READ(mm, rss_stat[member].count);
	return v > 0 ? v : 0;
}

SEC("raw_tp/mark_victim")
int BPF_PROG(on_oom_victim, struct task_struct *task)
{
	count(HS_C_OOM_KILLS, 1);
	struct hs_oom *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(HS_C_RING_DROPS, 1);
		return 0;
	}
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	e->h.type = HS_EV_OOM;
	e->h.pid = BPF_CORE_READ(task, tgid);
	e->h.time_ns = bpf_ktime_get_boot_ns();
	e->uid = BPF_CORE_READ(task, cred, uid.val);
	e->oom_score_adj = BPF_CORE_READ(task, signal, oom_score_adj);
	e->cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	e->total_vm_pages = mm ? BPF_CORE_READ(mm, total_vm) : 0;
	e->anon_rss_pages = mm ? rss_pages(mm, MM_ANONPAGES) : 0;
	e->file_rss_pages = mm ? rss_pages(mm, MM_FILEPAGES) : 0;
	e->shmem_rss_pages = mm ? rss_pages(mm, MM_SHMEMPAGES) : 0;
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	bpf_ringbuf_submit(e, wakeup_flag());
	return 0;
}

SEC("raw_tp/tcp_retransmit_skb")
int BPF_PROG(on_tcp_retransmit)
{
	count(HS_C_TCP_RETRANSMITS, 1);
	return 0;
}
