package xdp

// Flags: -O2 for the verifier-friendly code clang emits at that level;
// -g for the BTF that map definitions and bpf2go -type need; -mcpu=v3 for
// 32-bit jumps and the atomic OR (with fetch) and XOR of the shared tables
// (Linux 5.12+); -Wall -Werror so a warning cannot hide in a generated
// object.
//go:generate go tool bpf2go -tags linux -type flowradar_cell -type flowradar_cell_chunk -type fr_block flowradar flowradar.bpf.c -- -I../../internal/bpf/include -O2 -g -mcpu=v3 -Wall -Werror
