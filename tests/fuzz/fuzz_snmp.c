/* /proc/net/snmp, netstat, sockstat and /proc/net/tcp parsers. */
#include "collect/tcp.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size);
	struct err e;
	static const struct stat_key keys[] = {
	    {"Tcp", "RetransSegs", "a", 0},
	    {"TcpExt", "ListenDrops", "b", 0},
	    {"Udp", "InErrors", "c", 0},
	    {"Tcp", "CurrEstab", "d", 1},
	};
	int64_t out[4];
	snmp_parse(text, "fuzz", keys, 4, out, &e);
	static const struct stat_key sock[] = {{"TCP", "inuse", "a", 1}, {"TCP", "tw", "b", 1}};
	sockstat_parse(text, sock, 2, out, &e);
	uint64_t counts[TCP_STATES] = {0};
	proc_net_tcp_count(text, "fuzz", counts, &e);
	free(text);
	return 0;
}
