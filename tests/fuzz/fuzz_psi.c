/* The /proc/pressure/{cpu,memory,io,irq} parser. */
#include "collect/psi.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size);
	struct err e;
	struct psi p;
	psi_parse(text, "fuzz", &p, &e);
	free(text);
	return 0;
}
