package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/bpfload"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestIbltDigest_FrameLongerThanTheKernelTakes: the packet digest runs on
// frames clipped to what BPF_PROG_TEST_RUN takes. A frame whose headers
// end past that point (IPv6 with two 2,048-byte extension headers) parses
// whole but not clipped, so the digest never holds it; the section must
// not count it among the removed packets and then fail the run because
// the listing lacks it.
func TestIbltDigest_FrameLongerThanTheKernelTakes(t *testing.T) {
	long := pkt.Frame{
		IP6: &pkt.IPv6{
			Src: pkt.Addr("fd00::1"), Dst: pkt.Addr("fd00::2"),
			Ext: []pkt.Ext{{Type: pkt.ExtHopByHop, Data: make([]byte, 2046)}, {Type: pkt.ExtDstOpts, Data: make([]byte, 2046)}},
		},
		TCP: &pkt.TCP{SrcPort: 4000, DstPort: 443},
	}.Bytes()
	if _, err := flow.Parse(long); err != nil {
		t.Fatalf("the long frame does not parse: %v", err)
	}
	if _, err := flow.Parse(long[:bpfload.MaxFrame()]); err == nil {
		t.Skipf("a %d-byte frame clipped to %d still parses: pages too large for this test", len(long), bpfload.MaxFrame())
	}
	var out bytes.Buffer
	r := &Run{Seed: 1, Kernel: KernelOff, Quiet: true, out: &out}
	for i := range 1000 { // at 1% loss, some of the long frames are removed
		f := pkt.UDP4(fmt.Sprintf("10.2.%d.%d:4000", i>>8, i&255), "10.3.0.1:53", nil)
		if i%2 == 0 {
			f = long
		}
		info, err := flow.Parse(f)
		r.Frames = append(r.Frames, f)
		r.Parsed = append(r.Parsed, Parsed{Info: info, Err: err})
	}
	if err := ibltDigest(r); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "listing names exactly the removed packets            true") {
		t.Errorf("listing not exact:\n%s", out.String())
	}
}
