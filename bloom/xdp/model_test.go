package xdp

import (
	"testing"

	"github.com/dataplane-go/dataplane/bloom"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestModel_RunRefusesWhatNoKernelIs: a Model that no loaded kernel could
// be (no filter of its layout, a filter of other parameters, Options Load
// refuses) gets an error naming the problem from Run, on a frame that
// parses as on one that does not, and counts nothing. Run used to panic
// with a nil pointer dereference on the first IP frame when the layout's
// filter was nil, and to answer from a filter the kernel would refuse.
func TestModel_RunRefusesWhatNoKernelIs(t *testing.T) {
	p := bloom.Params{Bits: 1024, Hashes: 3, Seed: 7}
	classic := Options{Params: p}
	blocked := Options{Params: p, Layout: Blocked}
	learn := classic
	learn.Learn = true
	// 10.0.0.1:5353 > 10.0.0.2:53 udp
	udp := pkt.UDP4("10.0.0.1:5353", "10.0.0.2:53", []byte("query"))
	// ARP-like frame: EtherType 0x0806, not IP
	arp := pkt.Frame{EtherType: 0x0806, Payload: make([]byte, 28)}.Bytes()
	other := p
	other.Seed = 8
	moreBits, moreHashes := p, p
	moreBits.Bits = 1536
	moreHashes.Hashes = 4
	for _, c := range []struct {
		name string
		m    *Model
		want string
	}{
		{"classic, nil Filter", &Model{Options: classic, Blocked: bloom.MustNewBlocked(p)},
			"bloom model: Run with the Classic layout and a nil Model.Filter (set it to a bloom.Filter of Options.Params)"},
		{"learn, nil Filter", &Model{Options: learn},
			"bloom model: Run with the Classic layout and a nil Model.Filter (set it to a bloom.Filter of Options.Params)"},
		{"blocked, nil Blocked", &Model{Options: blocked, Filter: bloom.MustNew(p)},
			"bloom model: Run with the Blocked layout and a nil Model.Blocked (set it to a bloom.Blocked of Options.Params)"},
		{"zero Filter", &Model{Options: learn, Filter: &bloom.Filter{}},
			"bloom model: Model.Filter has bits 0, hashes 0, seed 0x0; Options.Params have bits 1024, hashes 3, seed 0x7"},
		{"filter of another seed", &Model{Options: classic, Filter: bloom.MustNew(other)},
			"bloom model: Model.Filter has bits 1024, hashes 3, seed 0x8; Options.Params have bits 1024, hashes 3, seed 0x7"},
		{"blocked of another seed", &Model{Options: blocked, Blocked: bloom.MustNewBlocked(other)},
			"bloom model: Model.Blocked has bits 1024, hashes 3, seed 0x8; Options.Params have bits 1024, hashes 3, seed 0x7"},
		{"filter of other bits alone", &Model{Options: classic, Filter: bloom.MustNew(moreBits)},
			"bloom model: Model.Filter has bits 1536, hashes 3, seed 0x7; Options.Params have bits 1024, hashes 3, seed 0x7"},
		{"blocked of other bits alone", &Model{Options: blocked, Blocked: bloom.MustNewBlocked(moreBits)},
			"bloom model: Model.Blocked has bits 1536, hashes 3, seed 0x7; Options.Params have bits 1024, hashes 3, seed 0x7"},
		{"filter of other hashes alone", &Model{Options: classic, Filter: bloom.MustNew(moreHashes)},
			"bloom model: Model.Filter has bits 1024, hashes 4, seed 0x7; Options.Params have bits 1024, hashes 3, seed 0x7"},
		{"bad layout", &Model{Options: Options{Params: p, Layout: 2}, Filter: bloom.MustNew(p)},
			"bloom kernel: layout must be Classic (0) or Blocked (1), got 2"},
		{"bad action", &Model{Options: Options{Params: p, Action: 9}, Filter: bloom.MustNew(p)},
			"bloom kernel: action must be DropMembers (0) or PassMembers (1), got 9"},
	} {
		for _, f := range [][]byte{udp, arp} {
			v, err := c.m.Run(f)
			if err == nil || err.Error() != c.want || v != 0 {
				t.Errorf("%s: Run = %d, %v; want 0, %q", c.name, v, err, c.want)
			}
		}
		if c.m.Stats != (Stats{}) {
			t.Errorf("%s: a refused Run counted %+v", c.name, c.m.Stats)
		}
	}

	// The same models made whole run: the error came from what was wrong.
	for _, o := range []Options{classic, learn, blocked} {
		m := &Model{Options: o, Filter: bloom.MustNew(p), Blocked: bloom.MustNewBlocked(p)}
		for _, f := range [][]byte{udp, arp} {
			if v, err := m.Run(f); err != nil || v != VerdictPass {
				t.Errorf("%+v: Run = %d, %v; want pass", o, v, err)
			}
		}
	}
}

// Stats.Packets is Passed plus Dropped; Malformed and NotIP packets are
// among them, not added.
func TestStats_Packets(t *testing.T) {
	s := Stats{Passed: 5, Dropped: 3, Malformed: 2, NotIP: 1}
	if got := s.Packets(); got != 8 {
		t.Errorf("Packets of %+v = %d, want 8", s, got)
	}
}
