// Package dataplane is a library of packet-processing data structures and
// algorithms, each written twice: in Go, and as a BPF/XDP reference kernel
// that the Linux verifier accepts. The two agree bit for bit, so a Go
// control plane or collector can drive or decode a kernel data plane.
//
// See README.md for the map of packages, the Go/kernel contract and how to
// run the kernels and benchmarks.
package dataplane
