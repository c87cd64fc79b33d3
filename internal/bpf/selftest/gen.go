// Package selftest checks the kernels' shared C code (internal/bpf/include)
// against the Go contract: the hash and index golden vectors of
// flow/testdata run through hash.h in the kernel, and each vector's hash
// through the incremental bit-array derivation (dp_bit_next) and the
// blocked filter's helpers (blocked.h), against flow.BitIndex and
// bloom.Blocked. The parser (parsing.h) is checked by flow/xdp's replay
// and fuzz tests, not here. It has no API.
package selftest

// Flags as in flow/xdp/gen.go.
//go:generate go tool bpf2go -tags linux -type selftest_in -type selftest_out selftest selftest.bpf.c -- -I../include -O2 -g -mcpu=v3 -Wall -Werror
