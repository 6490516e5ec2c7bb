/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in: only init_user_ns is needed (declared in uidgid.h). */
#ifndef BUS1_TEST_LINUX_USER_NAMESPACE_H
#define BUS1_TEST_LINUX_USER_NAMESPACE_H

#include <linux/uidgid.h>

#endif
