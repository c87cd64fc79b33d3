/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef DATAPLANE_COMPILER_H
#define DATAPLANE_COMPILER_H

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Load-time constants: set from Go on the CollectionSpec before loading.
 * They must stay volatile const, in the .rodata section that libbpf and
 * cilium/ebpf freeze before the program loads: the verifier then knows
 * their values, prunes the branches they rule out, and takes them as
 * bounds. Some proofs of memory safety rest on that (cms_counter's bound
 * on a slot comes from cms_width and cms_chunks): as writable globals the
 * count-min kernel is refused ("unbounded memory access"). A port that
 * makes them runtime settings must add its own bounds. */
#define DP_CONST volatile const

/*
 * DP_CASES_8(C) expands to C(1); C(2); ... C(8): in a switch on a
 * load-time count (k hashes, d rows), one straight-line copy of a loop per
 * count up to 8, of which the verifier keeps only the loaded count's (it
 * knows the constant, and prunes the other cases). Against a loop that
 * tests the volatile count at each step, this spares a load and a branch
 * per step and lets the compiler interleave the steps (about 1.5 ns a
 * packet in the count-min kernel at d = 4). The price is code: each copy
 * is in the object, and the object's load time grows with it.
 */
#define DP_CASES_MAX 8 /* the largest count DP_CASES_8 covers */
#define DP_CASES_8(C) \
	C(1);         \
	C(2);         \
	C(3);         \
	C(4);         \
	C(5);         \
	C(6);         \
	C(7);         \
	C(8)

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define dp_le64(x) (x)
#define dp_le32(x) (x)
#else
#define dp_le64(x) __builtin_bswap64(x)
#define dp_le32(x) __builtin_bswap32(x)
#endif

#endif
