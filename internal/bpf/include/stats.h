/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef DATAPLANE_STATS_H
#define DATAPLANE_STATS_H

#include "types.h"
#include <bpf/bpf_helpers.h>
#include "compiler.h"

/*
 * dp_count adds one to slot stat of a BPF_MAP_TYPE_PERCPU_ARRAY of __u64
 * counters (the kernels' per-CPU statistics). Each CPU owns its slot, so no
 * atomic is needed; the loaders sum the CPUs when they read.
 */
static __always_inline void dp_count(void *percpu_map, __u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(percpu_map, &stat);
	if (v)
		*v += 1;
}

#endif
