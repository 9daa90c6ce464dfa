/* Shared by the cmocka unit tests: fixtures and temporary files. */
#ifndef HINDSIGHT_TESTUTIL_H
#define HINDSIGHT_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"

/* The text of tests/fixtures/<rel>; the test fails when it is missing. */
static inline char *fixture_text(const char *rel)
{
	static struct buf b;
	char path[4096];
	const char *root = getenv("FIXTURES");
	snprintf(path, sizeof(path), "%s/%s", root ? root : "tests/fixtures", rel);
	int rc = buf_read_file(&b, AT_FDCWD, path, SOURCE_MAX_TABLE);
	if (rc < 0)
		fail_msg("cannot read fixture %s", path);
	return strdup(b.data);
}

/* A fresh directory under /tmp, removed by the caller with rm_rf. */
static inline char *temp_dir(void)
{
	char *t = strdup("/tmp/hindsight-test-XXXXXX");
	assert_non_null(mkdtemp(t));
	return t;
}

static inline void rm_rf(const char *dir)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static inline void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Asserts that a parser failed (-1) with a message mentioning needle. */
#define expect_error(rc, e, needle) expect_error_at(rc, e, needle, __LINE__)
static inline void expect_error_at(int rc, const struct err *e, const char *needle, int line)
{
	if (rc != -1)
		fail_msg("line %d: expected an error mentioning '%s'", line, needle);
	if (!strstr(e->msg, needle))
		fail_msg("line %d: error '%s' does not mention '%s'", line, e->msg, needle);
}

#endif
