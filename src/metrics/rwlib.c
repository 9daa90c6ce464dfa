/* Remote write's libraries, loaded at run time (rwlib.h says why). */
#include <dlfcn.h>
#include <string.h>

#include "metrics/rwlib.h"

struct rwlib rwlib;

/* One library to open: its file name and the Debian package that has it. */
struct lib_file {
	const char *name;
	const char *package;
};

/* A symbol of the table: its name and the function pointer its address
 * goes into (copied with memcpy, as POSIX's dlsym allows: a function
 * pointer is not an object pointer to C). */
struct lib_symbol {
	const char *name;
	void *slot;
};

/* Opens a library; the error names it and its package, and says why. */
static void *open_lib(const struct lib_file *f, struct err *e)
{
	void *h = dlopen(f->name, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *why = dlerror();
		err_set(e, "remote_write needs %s (Debian package %s), which cannot be loaded: %s",
			f->name, f->package, why ? why : "unknown error");
	}
	return h;
}

/* Resolves each symbol of a library into its slot; the error names the first
 * missing one (an older or other build of the library). */
static int resolve(void *h, const struct lib_file *f, const struct lib_symbol *syms, size_t n,
		   struct err *e)
{
	for (size_t i = 0; i < n; i++) {
		dlerror();
		void *p = dlsym(h, syms[i].name);
		if (!p)
			return err_set(e, "remote_write: %s (Debian package %s) has no %s", f->name,
				       f->package, syms[i].name);
		memcpy(syms[i].slot, &p, sizeof(p));
	}
	return 0;
}

/* Loads both libraries into a local table and publishes it only when every
 * function resolved, so a failed attempt leaves the table as it was. The
 * libraries stay loaded for the life of the process (libcurl's global state,
 * and the table, point into them). */
int rwlib_load_from(const char *curl_name, const char *snappy_name, struct err *e)
{
	struct rwlib t = {0};
	const struct lib_file curl = {curl_name, "libcurl4"};
	const struct lib_file snappy = {snappy_name, "libsnappy1v5"};
	const struct lib_symbol curl_syms[] = {
	    {"curl_global_init", &t.global_init},	{"curl_easy_init", &t.easy_init},
	    {"curl_easy_setopt", &t.easy_setopt},	{"curl_easy_perform", &t.easy_perform},
	    {"curl_easy_getinfo", &t.easy_getinfo},	{"curl_easy_strerror", &t.easy_strerror},
	    {"curl_easy_cleanup", &t.easy_cleanup},	{"curl_slist_append", &t.slist_append},
	    {"curl_slist_free_all", &t.slist_free_all},
	};
	const struct lib_symbol snappy_syms[] = {
	    {"snappy_compress", &t.compress},
	    {"snappy_max_compressed_length", &t.max_compressed_length},
	};
	void *hc = open_lib(&curl, e);
	if (!hc)
		return -1;
	void *hs = open_lib(&snappy, e);
	if (!hs || resolve(hc, &curl, curl_syms, ARRAY_LEN(curl_syms), e) ||
	    resolve(hs, &snappy, snappy_syms, ARRAY_LEN(snappy_syms), e)) {
		if (hs)
			dlclose(hs);
		dlclose(hc);
		return -1;
	}
	rwlib = t;
	return 0;
}

/* The first call loads; later calls repeat its outcome (a daemon opens the
 * writer once, tests may open several). */
int rwlib_load(struct err *e)
{
	static int state; /* 0 not tried, 1 loaded, -1 failed */
	static struct err first;
	if (!state)
		state = rwlib_load_from(RWLIB_CURL, RWLIB_SNAPPY, &first) ? -1 : 1;
	if (state < 0) {
		*e = first;
		return -1;
	}
	return 0;
}
