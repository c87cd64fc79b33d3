package main

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/iblt"
	ibltxdp "github.com/dataplane-go/dataplane/iblt/xdp"
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
	var frames [][]byte
	for i := range 1000 { // at 1% loss, some of the long frames are removed
		f := pkt.UDP4(fmt.Sprintf("10.2.%d.%d:4000", i>>8, i&255), "10.3.0.1:53", nil)
		if i%2 == 0 {
			f = long
		}
		frames = append(frames, f)
	}
	r, out := frameRun(1, frames...)
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
	for i := range frames {
		frames[i] = pkt.UDP4(fmt.Sprintf("10.2.%d.%d:4000", i>>8, i&255), "10.3.0.1:53", nil)
	}
	run := func(top int) string {
		r, out := frameRun(1, frames...)
		r.Top = top
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

// TestIbltDigest_CountsTwins: packets of the same flow and identifier are
// twins; a trace of 100 distinct packets and one sent twice has 2.
func TestIbltDigest_CountsTwins(t *testing.T) {
	var frames [][]byte
	for i := range 100 {
		frames = append(frames, pkt.UDP4(fmt.Sprintf("10.2.0.%d:4000", i), "10.3.0.1:53", nil))
	}
	frames = append(frames, frames[42])
	r, out := frameRun(1, frames...)
	if err := ibltDigest(r); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if got := row(t, out.String(), "packets with a twin (same flow and id) in the trace"); got != "2" {
		t.Errorf("packets with a twin %s, want 2", got)
	}
}

// TestIbltExactAndSound: a listing is exact when it names every removed
// packet as often as it was removed and nothing else; sound when it names
// nothing more often than it was removed.
func TestIbltExactAndSound(t *testing.T) {
	k := flow.KeyFrom4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 1, 2, flow.ProtoUDP)
	p := func(id uint64) ibltxdp.Packet { return ibltxdp.Packet{Flow: k, ID: id, Bytes: 60} }
	removed := map[ibltPkt]int{{k, 1, 60}: 1, {k, 2, 60}: 2}
	for _, tc := range []struct {
		name         string
		lost         []ibltxdp.Packet
		exact, sound bool
	}{
		{"as removed", []ibltxdp.Packet{p(2), p(1), p(2)}, true, true},
		{"one missing", []ibltxdp.Packet{p(1), p(2)}, false, true},
		{"one more", []ibltxdp.Packet{p(1), p(2), p(2), p(3)}, false, false},
		{"one too often", []ibltxdp.Packet{p(1), p(1), p(2), p(2)}, false, false},
		{"other size", []ibltxdp.Packet{p(1), p(2), {Flow: k, ID: 2, Bytes: 61}}, false, false},
	} {
		if got := ibltExact(tc.lost, removed); got != tc.exact {
			t.Errorf("%s: exact %v, want %v", tc.name, got, tc.exact)
		}
		if got := ibltSound(tc.lost, removed); got != tc.sound {
			t.Errorf("%s: sound %v, want %v", tc.name, got, tc.sound)
		}
	}
}

// ibltLossFrames is a trace of ten UDP packets of distinct flows, the
// packets kept after removing the fourth, and that packet as removed.
func ibltLossFrames(t *testing.T) (frames, kept [][]byte, removed map[ibltPkt]int) {
	for i := range 10 {
		frames = append(frames, pkt.UDP4(fmt.Sprintf("10.0.0.%d:1000", i+1), "10.0.1.1:53", []byte{byte(i), 1, 2, 3}))
	}
	kept = append(append(kept, frames[:3]...), frames[4:]...)
	info, err := flow.Parse(frames[3])
	if err != nil {
		t.Fatal(err)
	}
	removed = map[ibltPkt]int{{info.Key, ibltxdp.PacketID(frames[3], info), uint64(len(frames[3]))}: 1}
	return frames, kept, removed
}

// TestIbltKernelCheck: the kernel's digests are identical to Go's only if
// both are, upstream against upstream and downstream against downstream;
// the listing is the kernel tables' own, judged against the removed
// packets.
func TestIbltKernelCheck(t *testing.T) {
	frames, kept, removed := ibltLossFrames(t)
	o, err := ibltxdp.OptionsFor(4, 0.999, 6)
	if err != nil {
		t.Fatal(err)
	}
	digest := func(frames [][]byte) *iblt.Table {
		d, err := ibltxdp.Digest(o, frames)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	goUp, goDown := digest(frames), digest(kept)
	for _, tc := range []struct {
		name         string
		up, down     *iblt.Table
		same         bool
		lost         int
		exact, sound bool
	}{
		{"identical", digest(frames), digest(kept), true, 1, true, true},
		{"upstream missed the removed packet", digest(kept), digest(kept), false, 0, false, true},
		{"downstream saw it", digest(frames), digest(frames), false, 0, false, true},
		{"downstream missed another", digest(frames), digest(kept[1:]), false, 2, false, false},
		{"swapped", digest(kept), digest(frames), false, 0, false, false},
	} {
		same, l := ibltKernelCheck(tc.up, tc.down, goUp, goDown, removed)
		if same != tc.same || len(l.lost) != tc.lost || l.exact != tc.exact || l.sound != tc.sound || l.err != nil {
			t.Errorf("%s: same %v, %d lost, exact %v, sound %v (%v); want %v, %d, %v, %v", tc.name, same, len(l.lost), l.exact, l.sound, l.err, tc.same, tc.lost, tc.exact, tc.sound)
		}
	}
}

// TestIbltListingOK: a listing is right when it is sound and, unless it is
// incomplete, exact; the kernel also fails when its digests differ from
// Go's, each alone.
func TestIbltListingOK(t *testing.T) {
	incomplete := errors.New("incomplete")
	for _, tc := range []struct {
		l  ibltListing
		ok bool
	}{
		{ibltListing{exact: true, sound: true}, true},
		{ibltListing{exact: false, sound: true, err: incomplete}, true},
		{ibltListing{exact: false, sound: true}, false},
		{ibltListing{exact: true, sound: false}, false},
		{ibltListing{exact: false, sound: false, err: incomplete}, false},
	} {
		if got := tc.l.ok(); got != tc.ok {
			t.Errorf("%+v: ok %v, want %v", tc.l, got, tc.ok)
		}
		for _, same := range []bool{true, false} {
			err := ibltKernelDisagreement(same, tc.l)
			if (err == nil) != (same && tc.ok) {
				t.Errorf("same %v, %+v: error %v", same, tc.l, err)
			}
			want := fmt.Sprintf("iblt: kernel digest identical to Go: %v, kernel listing exact: %v, sound: %v (%v)", same, tc.l.exact, tc.l.sound, tc.l.err)
			if err != nil && err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
		}
	}
}

// TestIbltList: the listing of two digests names the lost packets (up
// less down) and the extra ones (down less up), and is exact and sound
// against the removed packets only when it names them all and no other.
func TestIbltList(t *testing.T) {
	frames, kept, removed := ibltLossFrames(t)
	o, err := ibltxdp.OptionsFor(4, 0.999, 6)
	if err != nil {
		t.Fatal(err)
	}
	up, _ := ibltxdp.Digest(o, frames)
	down, _ := ibltxdp.Digest(o, kept)
	injected := pkt.UDP4("10.0.0.99:1000", "10.0.1.1:53", nil)
	downInjected, _ := ibltxdp.Digest(o, append(kept[:len(kept):len(kept)], injected))
	var none map[ibltPkt]int
	twice := map[ibltPkt]int{}
	for k := range removed {
		twice[k] = 2
	}
	for _, tc := range []struct {
		name         string
		up, down     *iblt.Table
		removed      map[ibltPkt]int
		lost, extra  int
		exact, sound bool
	}{
		{"as removed", up, down, removed, 1, 0, true, true},
		{"nothing removed", up, down, none, 1, 0, false, false},
		{"removed twice", up, down, twice, 1, 0, false, true},
		{"extra", down, up, removed, 0, 1, false, false},
		{"as removed, and one extra", up, downInjected, removed, 1, 1, false, false},
		{"same digests", up, up, none, 0, 0, true, true},
	} {
		l := ibltList(tc.up, tc.down, tc.removed)
		if len(l.lost) != tc.lost || len(l.extra) != tc.extra || l.exact != tc.exact || l.sound != tc.sound || l.err != nil {
			t.Errorf("%s: %d lost, %d extra, exact %v, sound %v (%v); want %d, %d, %v, %v", tc.name, len(l.lost), len(l.extra), l.exact, l.sound, l.err, tc.lost, tc.extra, tc.exact, tc.sound)
		}
	}
	// An error makes no listing exact, not even one that names the
	// removed packets (here none).
	if l := ibltList(up, nil, none); l.err == nil || len(l.lost) != 0 || l.exact {
		t.Errorf("no downstream digest: %d lost, exact %v, error %v", len(l.lost), l.exact, l.err)
	}
}
