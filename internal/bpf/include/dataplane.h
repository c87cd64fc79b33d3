/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Everything a reference kernel includes: ABI types, libbpf's helper
 * declarations (from libbpf-dev), the hash and the parser. The kernels are
 * built with clang -O2 -mcpu=v3 (each package's gen.go says why): the
 * count-min kernel's 32-bit compare-and-swap does not compile for v1 or
 * v2, and every kernel needs Linux 5.18 or newer to load. */
#ifndef DATAPLANE_H
#define DATAPLANE_H

#include "types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "compiler.h"
#include "hash.h"
#include "flow.h"
#include "parsing.h"
#include "stats.h"

#endif
