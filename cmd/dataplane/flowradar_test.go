package main

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/flowradar"
)

// frRun is a Run of n flows of 5 packets each, the flows' packets
// interleaved, for calling the flowradar section's parts directly.
func frRun(n int) (*Run, *bytes.Buffer) {
	var out bytes.Buffer
	r := &Run{Seed: 5, Kernel: KernelOff, Quiet: true, out: &out}
	for p := 0; p < 5; p++ {
		for i := 0; i < n; i++ {
			k := flow.KeyFrom4([4]byte{10, 2, byte(i >> 8), byte(i)}, [4]byte{10, 3, byte(i), byte(i >> 8)}, 4000, 443, flow.ProtoTCP)
			r.Parsed = append(r.Parsed, Parsed{Info: flow.Info{Key: k}})
			r.Frames = append(r.Frames, make([]byte, 100))
		}
	}
	return r, &out
}

// TestFlowradarLocate_DecodeError: the loss localisation line reports the
// network-wide decode's error. With tables sized for a sixth of the
// busiest switch's flows the decode cannot finish, and the line must say
// so rather than print the error of the last Hops call.
func TestFlowradarLocate_DecodeError(t *testing.T) {
	const n = 3000
	for _, tc := range []struct {
		name     string
		busiest  int // flows the tables are sized for
		complete bool
	}{
		{"tables sized for the flows", n, true},
		{"tables sized for a sixth", n / 6, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, out := frRun(n)
			if err := flowradarLocate(r, flowradar.ParamsFor(n, r.Seed), tc.busiest); err != nil {
				t.Fatal(err)
			}
			m := regexp.MustCompile(`decode error (.*)\)`).FindStringSubmatch(out.String())
			if m == nil {
				t.Fatalf("no decode error in the loss localisation line:\n%s", out)
			}
			if got := m[1] == "<nil>"; got != tc.complete {
				t.Errorf("decode error %q, want an error: %v", m[1], !tc.complete)
			}
		})
	}
}
