#ifndef HINDSIGHT_COLLECT_KMSG_H
#define HINDSIGHT_COLLECT_KMSG_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* One /dev/kmsg record: "prio,seq,usec,flags[,...];message\n" followed by
 * zero or more " KEY=value\n" dictionary lines. */
struct kmsg_record {
	uint64_t seq;
	uint64_t mono_us; /* kernel time since boot */
	int level;	  /* prio & 7: 0 emerg ... 7 debug */
	int facility;	  /* prio >> 3: 0 kern, 1 user, 3 daemon ... */
	char cont;	  /* flags: '-', 'c' (continues), '+' (continuation) */
	const char *msg;  /* the message, kernel-escaped (\x0a for a newline) */
	size_t msg_len;
	const char *dict; /* the dictionary lines without their leading space, or NULL */
	size_t dict_len;
	size_t len; /* bytes of text this record took */
};

/* Parses the record at the start of text (len bytes). /dev/kmsg returns one
 * record per read; text with several (a file, a test) is walked with len.
 * Returns -1 naming what is wrong on malformed text. */
int kmsg_parse(const char *text, size_t len, struct kmsg_record *out, struct err *e);

/* Undoes the kernel's \xNN escaping into out (at most n-1 bytes, NUL-ended);
 * returns the length written. */
size_t kmsg_unescape(const char *msg, size_t len, char *out, size_t n);

/* Where the collector reads from; tests point it at a file. */
extern const char *kmsg_path;

struct collector_ops;
extern const struct collector_ops collector_kmsg;

#endif
