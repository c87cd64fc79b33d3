package main

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
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

// TestIbltDigest_TopLimitsTheLostList: the section lists r.Top lost
// packets and then how many more; -top 0 lists none and no "more" line,
// as the other sections show no top-N table.
func TestIbltDigest_TopLimitsTheLostList(t *testing.T) {
	frames := make([][]byte, 2000) // at 1% loss, about 20 removed
	parsed := make([]Parsed, len(frames))
	for i := range frames {
		frames[i] = pkt.UDP4(fmt.Sprintf("10.2.%d.%d:4000", i>>8, i&255), "10.3.0.1:53", nil)
		info, err := flow.Parse(frames[i])
		parsed[i] = Parsed{Info: info, Err: err}
	}
	run := func(top int) string {
		var out bytes.Buffer
		r := &Run{Seed: 1, Top: top, Kernel: KernelOff, Quiet: true, out: &out, Frames: frames, Parsed: parsed}
		if err := ibltDigest(r); err != nil {
			t.Fatalf("-top %d: %v\n%s", top, err, out.String())
		}
		return out.String()
	}
	lostLines := regexp.MustCompile(`(?m)^  lost: `)
	moreLine := regexp.MustCompile(`(?m)^  \.\.\. (\d+) more$`)

	out := run(0)
	if n := len(lostLines.FindAllString(out, -1)); n != 0 || moreLine.MatchString(out) {
		t.Errorf("-top 0 listed %d lost packets or a \"more\" line:\n%s", n, out)
	}
	removed, err := strconv.Atoi(strings.Fields(row(t, out, "packets removed / listed lost / listed extra"))[0])
	if err != nil || removed < 3 {
		t.Fatalf("removed packets %d (%v): too few for this test\n%s", removed, err, out)
	}

	out = run(2)
	if n := len(lostLines.FindAllString(out, -1)); n != 2 {
		t.Errorf("-top 2 listed %d lost packets, want 2:\n%s", n, out)
	}
	if m := moreLine.FindStringSubmatch(out); m == nil || m[1] != strconv.Itoa(removed-2) {
		t.Errorf("-top 2: \"more\" line %q, want %d more:\n%s", m, removed-2, out)
	}
}
