/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdint.h>
#include <stdlib.h>
#include "internal.h"

void *bus1_grow(void *array, size_t *capp, size_t need, size_t size)
{
	size_t cap = *capp ? *capp : 8;
	void *p;

	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (!size || cap > SIZE_MAX / size)
		return NULL;

	p = realloc(array, cap * size);
	if (!p)
		return NULL;
	*capp = cap;
	return p;
}
