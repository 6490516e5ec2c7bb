/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef LIBBUS1_INTERNAL_H
#define LIBBUS1_INTERNAL_H

#include <stddef.h>

/*
 * The library is built with -fvisibility=hidden; only functions marked
 * _public_ are exported, and libbus1.sym assigns them their symbol version.
 */
#define _public_ __attribute__((__visibility__("default")))

#define BUS1_ARRAY_SIZE(_a) (sizeof(_a) / sizeof((_a)[0]))

/*
 * Reallocate @array (capacity *@capp elements of @size bytes) so that it
 * holds at least @need elements, at least doubling the capacity. Returns
 * the new array and updates *@capp, or returns NULL (the old array stays
 * valid and unchanged) if the size overflows or memory is short.
 */
void *bus1_grow(void *array, size_t *capp, size_t need, size_t size);

#endif /* LIBBUS1_INTERNAL_H */
