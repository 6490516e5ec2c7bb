/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in: symbol exports mean nothing in user space. */
#ifndef BUS1_TEST_LINUX_EXPORT_H
#define BUS1_TEST_LINUX_EXPORT_H

#define EXPORT_SYMBOL(sym)
#define EXPORT_SYMBOL_GPL(sym)

#endif
