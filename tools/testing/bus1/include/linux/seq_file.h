/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in: a seq_file that collects its output in a growing string. */
#ifndef BUS1_TEST_LINUX_SEQ_FILE_H
#define BUS1_TEST_LINUX_SEQ_FILE_H

#include <stddef.h>

struct seq_file {
	char *buf;	/* NUL-terminated output, malloc()ed */
	size_t count;	/* bytes in buf, without the NUL */
	size_t size;	/* allocated size of buf */
};

void seq_printf(struct seq_file *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void seq_puts(struct seq_file *m, const char *s);

#endif
