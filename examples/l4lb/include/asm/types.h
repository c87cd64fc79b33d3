/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The BPF target has no asm/ headers of its own, and the host's live in a
 * multiarch directory (e.g. x86_64-linux-gnu) clang does not search for
 * -target bpf. The generic ones fit BPF (64-bit long, int-ll64 types) and
 * keep the object the same on every host. */
#include <asm-generic/types.h>
