/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in: every WARN_ON*() that fires is counted (tests expect none). */
#ifndef BUS1_TEST_LINUX_BUG_H
#define BUS1_TEST_LINUX_BUG_H

#include <stdbool.h>
#include "../../shim.h"

#define WARN_ON(cond) ({						\
	bool __warn_c = !!(cond);					\
	if (__warn_c)							\
		shim_warn(__FILE__, __LINE__, #cond);			\
	__warn_c;							\
})
#define WARN_ON_ONCE(cond) ({					\
	bool __warn_c = !!(cond);					\
	if (__warn_c)							\
		shim_warn(__FILE__, __LINE__, #cond);			\
	__warn_c;							\
})

#endif
