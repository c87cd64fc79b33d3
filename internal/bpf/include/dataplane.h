/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Everything a reference kernel includes: ABI types, libbpf's helper
 * declarations (from libbpf-dev), the hash and the parser. */
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
