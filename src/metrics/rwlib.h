/* The libraries remote write needs, libcurl (HTTP and TLS) and libsnappy
 * (the body's compression), loaded at run time with dlopen, and only when
 * remote_write is configured: linked, they and their own dependencies
 * (a TLS library, Kerberos, LDAP, SSH, HTTP/2, libstdc++) would be mapped
 * into every daemon, and their start-up allocations paid by every host. The
 * headers are used at build time (libcurl4-openssl-dev, libsnappy-dev); the
 * functions are called through the table below. */
#ifndef HINDSIGHT_METRICS_RWLIB_H
#define HINDSIGHT_METRICS_RWLIB_H

#include <curl/curl.h>
#include <snappy-c.h>

#include "util/util.h"

/* The run-time names (Debian 12: packages libcurl4 and libsnappy1v5). */
#define RWLIB_CURL   "libcurl.so.4"
#define RWLIB_SNAPPY "libsnappy.so.1"

/* Only the functions remote.c and rwproto.c call. */
struct rwlib {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *curl, CURLoption option, ...);
	CURLcode (*easy_perform)(CURL *curl);
	CURLcode (*easy_getinfo)(CURL *curl, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode code);
	void (*easy_cleanup)(CURL *curl);
	struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
	void (*slist_free_all)(struct curl_slist *list);
	snappy_status (*compress)(const char *in, size_t in_len, char *out, size_t *out_len);
	size_t (*max_compressed_length)(size_t source_length);
};

/* The table, valid once rwlib_load succeeded. */
extern struct rwlib rwlib;

/* Loads RWLIB_CURL and RWLIB_SNAPPY and resolves the table, once per
 * process (later calls return the first call's outcome); the error names
 * the library or function missing and the package that provides it. Not
 * thread-safe: called from remote_writer_open, on the daemon's main thread. */
int rwlib_load(struct err *e);

/* rwlib_load with other file names, for its tests. */
int rwlib_load_from(const char *curl_name, const char *snappy_name, struct err *e);

#endif
