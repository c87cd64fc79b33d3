package main

// Flags as in the library's kernels (see maglev/xdp/gen.go).
//go:generate go tool bpf2go -tags linux decap decap.bpf.c -- -Iinclude -O2 -g -mcpu=v3 -Wall -Werror
