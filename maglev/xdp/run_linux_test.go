//go:build linux

package xdp

import "github.com/cilium/ebpf"

func ebpfRun(lb *LB, f, out []byte) runResult {
	opts := ebpf.RunOptions{Data: f, DataOut: out, Repeat: 1}
	v, err := lb.Program().Run(&opts)
	return runResult{v, opts.DataOut, err}
}
