//go:build linux

package xdp

import (
	"testing"

	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// FuzzKernelParse is the parser contract as a coverage-guided differential
// fuzz test: for any frame, the kernel's parser (dp_parse_packet, the
// inlined fast path and the global dp_parse that every kernel shares) and
// flow.Parse must return the same outcome and, for a parsed frame, the same
// key, offsets, fragment kind, VLAN tag count, packet identifier and hash.
// The fuzzer is guided by the coverage of the Go parser, the kernel's mirror.
// TestKernel_Mutations, TestKernel_LengthSweep and TestKernel_Rules run
// fixed sets of frames (the seeds here: baseFrames and ruleFrames); this
// target goes where they do not.
//
// Frames shorter than an Ethernet header are not XDP input; frames longer
// than kerneltest.MaxFrame are compared as the kernel sees them, cut.
// Without BPF privileges it skips like every kernel test.
func FuzzKernelParse(f *testing.F) {
	for _, frame := range baseFrames(f) {
		f.Add(frame)
	}
	for _, c := range ruleFrames() {
		f.Add(c.frame)
	}
	k := loadKernel(f)
	f.Fuzz(func(t *testing.T, frame []byte) {
		if len(frame) < kerneltest.MinFrame {
			return
		}
		frame = kerneltest.Clip(frame)
		e := runOne(t, k, frame)
		if m := mismatch(e, frame); m != "" {
			t.Fatalf("frame % x: %s", frame, m)
		}
	})
}
