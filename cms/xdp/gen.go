package xdp

// Flags: -O2 for the verifier-friendly code clang emits at that level;
// -g for the BTF that map definitions and bpf2go -type need (bpf2go strips
// the DWARF afterwards); -mcpu=v3 for 32-bit jumps and ALU and the atomic
// compare-and-swap (Linux 5.12+); -Wall -Werror so a warning cannot hide in
// a generated object.
//go:generate go tool bpf2go -tags linux -type cms_event -type cms_reported_slot cms cms.bpf.c -- -I../../internal/bpf/include -O2 -g -mcpu=v3 -Wall -Werror
