/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stand-in: checked arithmetic with the kernel's semantics (store the
 * wrapped result, return true on overflow). Like the kernel's, the operands
 * and the result must have the same type.
 */
#ifndef BUS1_TEST_LINUX_OVERFLOW_H
#define BUS1_TEST_LINUX_OVERFLOW_H

#include <stdbool.h>

#define __check_same_type(a, b, d) ({					\
	_Static_assert(__builtin_types_compatible_p(__typeof__(a),	\
						    __typeof__(b)) &&	\
		       __builtin_types_compatible_p(__typeof__(a),	\
						    __typeof__(*(d))),	\
		       "check_*_overflow() on mixed types");		\
})

#define check_add_overflow(a, b, d) ({					\
	__check_same_type(a, b, d);					\
	__builtin_add_overflow(a, b, d);				\
})
#define check_sub_overflow(a, b, d) ({					\
	__check_same_type(a, b, d);					\
	__builtin_sub_overflow(a, b, d);				\
})
#define check_mul_overflow(a, b, d) ({					\
	__check_same_type(a, b, d);					\
	__builtin_mul_overflow(a, b, d);				\
})

#endif
