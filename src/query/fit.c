/* Fitting a table to the terminal: which columns are shown and how wide,
 * and how a cell too long for its column breaks into lines. Pure: widths
 * and text in, widths and offsets out. */
#include <string.h>

#include "query/query.h"

size_t text_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/* The width of the shown columns, two spaces apart; with at_min, each at
 * the least it may shrink to. */
static size_t total_width(const struct fit_col *c, int n, int at_min)
{
	size_t total = 0;
	int shown = 0;
	for (int i = 0; i < n; i++) {
		if (!c[i].shown)
			continue;
		total += (at_min ? c[i].min : c[i].width) + (shown ? 2 : 0);
		shown++;
	}
	return total;
}

/* The shown column that may still give way the most; -1 when none may. */
static int widest_shrinkable(const struct fit_col *c, int n, size_t *second)
{
	int best = -1;
	*second = 0;
	for (int i = 0; i < n; i++) {
		if (!c[i].shown || c[i].width <= c[i].min)
			continue;
		if (best < 0 || c[i].width > c[best].width) {
			if (best >= 0)
				*second = c[best].width;
			best = i;
		} else if (c[i].width > *second) {
			*second = c[i].width;
		}
	}
	return best;
}

int fit_columns(struct fit_col *c, int n, size_t limit)
{
	for (int i = 0; i < n; i++) {
		c[i].shown = 1;
		if (c[i].min > c[i].width)
			c[i].min = c[i].width;
	}
	if (limit == 0)
		return n;
	/* Leave out columns from the right until the rest fits at their
	 * narrowest: the views put the numbers people read first. */
	int shown = n;
	while (shown > 1 && total_width(c, n, 1) > limit)
		c[--shown].shown = 0;
	/* Then the widest text gives way, down to the next widest, until the
	 * table fits (or nothing can give more: one column wider than the
	 * terminal stays so). */
	size_t total;
	while ((total = total_width(c, n, 0)) > limit) {
		size_t second, over = total - limit;
		int w = widest_shrinkable(c, n, &second);
		if (w < 0)
			break;
		/* down to the next widest (one at a time when they tie, so equals
		 * shrink alike), never below its least */
		size_t floor = second > c[w].min ? second : c[w].min;
		size_t step = c[w].width > floor ? c[w].width - floor : 1;
		c[w].width -= step < over ? step : over;
	}
	return shown;
}

/* Bytes of s that make up at most width characters. */
static size_t bytes_for(const char *s, size_t width)
{
	size_t i = 0, w = 0;
	while (s[i]) {
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if (w == width)
				break;
			w++;
		}
		i++;
	}
	return i;
}

size_t wrap_piece(const char *s, size_t width, const char **next)
{
	ASSERT(width > 0);
	size_t n = bytes_for(s, width);
	if (!s[n]) {
		*next = s + n;
		return n;
	}
	/* break after the last space, unless that leaves the line mostly empty;
	 * else after the last slash (a path such as an exec's filename) */
	size_t cut = n;
	while (cut > 0 && s[cut] != ' ' && s[cut - 1] != ' ')
		cut--;
	if (cut < n / 2 || cut == 0) {
		cut = n;
		while (cut > 0 && s[cut - 1] != '/')
			cut--;
		if (cut < n / 2 || cut == 0)
			cut = n;
	}
	size_t end = cut;
	while (end > 0 && s[end - 1] == ' ')
		end--;
	while (s[cut] == ' ')
		cut++;
	*next = s + cut;
	return end;
}

size_t truncate_piece(const char *s, size_t width)
{
	if (text_width(s) <= width)
		return strlen(s);
	return width ? bytes_for(s, width - 1) : 0;
}
