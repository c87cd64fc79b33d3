package xdp

// Flags as in flow/xdp/gen.go: -O2 for verifier-friendly code, -g for BTF,
// -mcpu=v3 for 32-bit jumps and the atomic XOR of the shared table (Linux
// 5.12+), -Wall -Werror.
//go:generate go tool bpf2go -tags linux -type iblt_cell -type iblt_pkt_key iblt iblt.bpf.c -- -I../../internal/bpf/include -O2 -g -mcpu=v3 -Wall -Werror
