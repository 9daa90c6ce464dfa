#ifndef HINDSIGHT_COLLECT_TCP_H
#define HINDSIGHT_COLLECT_TCP_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* A value wanted from a "Section: name name ..." file. */
struct stat_key {
	const char *section; /* "Tcp", "TcpExt", "TCP" (sockstat) */
	const char *name;    /* "RetransSegs", "inuse" */
	const char *column;  /* where it is stored */
	int gauge;	     /* stored as is, not as a delta */
};

#define STAT_ABSENT INT64_MIN /* this kernel does not report the value */

/* /proc/net/snmp and /proc/net/netstat: pairs of lines, the first naming the
 * columns of a section, the second giving their values ("Tcp: ... MaxConn"
 * then "Tcp: ... -1"). out[i] receives keys[i]'s value or STAT_ABSENT. */
int snmp_parse(const char *text, const char *what, const struct stat_key *keys, size_t n,
	       int64_t *out, struct err *e);

/* /proc/net/sockstat: "TCP: inuse 5 orphan 0 tw 2 alloc 7 mem 1". */
int sockstat_parse(const char *text, const struct stat_key *keys, size_t n, int64_t *out,
		   struct err *e);

/* TCP states, numbered as the kernel does (TCP_ESTABLISHED = 1 ...). */
#define TCP_STATES 12

/* Counts connections by state in /proc/net/tcp or tcp6 text (the header line
 * and then one socket per line, the state in hex as the 4th field). Adds to
 * counts[], so IPv4 and IPv6 can be summed. */
int proc_net_tcp_count(const char *text, const char *what, uint64_t counts[TCP_STATES],
		       struct err *e);

struct collector_ops;
extern const struct collector_ops collector_tcp;

#endif
