/* A fake proc root for the scanner and collector tests: one directory per
 * process holding stat, status, io, limits, schedstat, cmdline and fd/. */
#ifndef HINDSIGHT_FAKEPROC_H
#define HINDSIGHT_FAKEPROC_H

#include <sys/stat.h>

#include "testutil.h"

struct fake_proc {
	int pid, ppid;
	const char *comm;
	const char *cmdline; /* argv joined by '\0' is built from spaces */
	char state;
	unsigned long long utime, stime, cutime, cstime, minflt, majflt;
	unsigned long long start, threads, vsize, rss_pages;
	unsigned long long vcsw, ivcsw, read_bytes, write_bytes, swap_kb;
	unsigned long long run_ns, slices;
	unsigned uid, nofile, fds;
	int kthread;
};

static inline void fake_write(const char *root, int pid, const char *name, const char *text)
{
	char path[4096];
	snprintf(path, sizeof(path), "%.3900s/%d/%s", root, pid, name);
	write_file(path, text);
}

static inline void fake_proc_write(const char *root, const struct fake_proc *f)
{
	char path[4096], text[2048];
	snprintf(path, sizeof(path), "%.3900s/%d", root, f->pid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%.3900s/%d/fd", root, f->pid);
	mkdir(path, 0755);
	for (unsigned i = 0; i < f->fds; i++) {
		snprintf(path, sizeof(path), "%.3900s/%d/fd/%u", root, f->pid, i);
		write_file(path, "");
	}
	snprintf(text, sizeof(text),
		 "%d (%s) %c %d %d %d 0 -1 %u %llu 0 %llu 0 %llu %llu %llu %llu 20 0 %llu 0 "
		 "%llu %llu %llu 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
		 f->pid, f->comm, f->state ? f->state : 'S', f->ppid, f->pid, f->pid,
		 f->kthread ? 0x208040u : 4194560u, f->minflt, f->majflt, f->utime, f->stime,
		 f->cutime, f->cstime, f->threads ? f->threads : 1, f->start, f->vsize,
		 f->rss_pages);
	fake_write(root, f->pid, "stat", text);
	snprintf(text, sizeof(text),
		 "Name:\t%s\nState:\tS (sleeping)\nUid:\t%u\t%u\t%u\t%u\nVmSwap:\t%llu kB\n"
		 "voluntary_ctxt_switches:\t%llu\nnonvoluntary_ctxt_switches:\t%llu\n",
		 f->comm, f->uid, f->uid, f->uid, f->uid, f->swap_kb, f->vcsw, f->ivcsw);
	fake_write(root, f->pid, "status", text);
	snprintf(text, sizeof(text),
		 "rchar: 0\nwchar: 0\nsyscr: 0\nsyscw: 0\nread_bytes: %llu\nwrite_bytes: %llu\n"
		 "cancelled_write_bytes: 0\n",
		 f->read_bytes, f->write_bytes);
	fake_write(root, f->pid, "io", text);
	snprintf(text, sizeof(text),
		 "Limit                     Soft Limit           Hard Limit           Units     \n"
		 "Max open files            %u                 4096                 files     \n",
		 f->nofile ? f->nofile : 1024);
	fake_write(root, f->pid, "limits", text);
	snprintf(text, sizeof(text), "%llu 0 %llu\n", f->run_ns, f->slices);
	fake_write(root, f->pid, "schedstat", text);
	size_t n = 0;
	const char *c = f->cmdline ? f->cmdline : "";
	for (; c[n]; n++)
		text[n] = c[n] == ' ' ? '\0' : c[n];
	if (n)
		text[n++] = '\0';
	snprintf(path, sizeof(path), "%.3900s/%d/cmdline", root, f->pid);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fwrite(text, 1, n, fp);
	fclose(fp);
}

static inline void fake_proc_remove(const char *root, int pid)
{
	char path[4096];
	snprintf(path, sizeof(path), "%.3900s/%d", root, pid);
	rm_rf(path);
}

#endif
