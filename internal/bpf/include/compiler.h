/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef DATAPLANE_COMPILER_H
#define DATAPLANE_COMPILER_H

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Load-time constants: set from Go on the CollectionSpec before loading. */
#define DP_CONST volatile const

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define dp_le64(x) (x)
#define dp_le32(x) (x)
#else
#define dp_le64(x) __builtin_bswap64(x)
#define dp_le32(x) __builtin_bswap32(x)
#endif

#endif
