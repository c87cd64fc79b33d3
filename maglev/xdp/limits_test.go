//go:build linux

package xdp

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/maglev"
)

// TestLB_LimitsModel: the kernel's maps bound the VIPs (MaxVIPs), the
// distinct backend addresses (MaxBackends) and the backend slots; the
// loader refuses a SetVIP past them, and so must the model, or a
// simulation on the model goes on where the kernel stopped. A SetVIP
// needs room for its new backends before it frees those that left (the
// new slots are written before the table swap), so replacing a backend at
// the limit fails too, in both, and leaves both as they were.
func TestLB_LimitsModel(t *testing.T) {
	p := load(t, Options{Table: maglev.Params{Size: 251}})
	both := func(step string, v VIP, bs []Backend, wantErr string) {
		t.Helper()
		_, kerr := p.lb.SetVIP(v, bs)
		_, merr := p.model.SetVIP(v, bs)
		for who, err := range map[string]error{"kernel": kerr, "model": merr} {
			switch {
			case wantErr == "" && err != nil:
				t.Fatalf("%s: %s: %v", step, who, err)
			case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
				t.Fatalf("%s: %s: got error %v, want one containing %q", step, who, err, wantErr)
			}
		}
	}
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)}) }
	vip := func(i int) VIP { return VIP{netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)}), 80, 6} }
	// MaxBackends addresses over 16 VIPs of 256 drained backends each
	// (weight 0: members without table entries).
	for v := 0; v < MaxBackends/256; v++ {
		bs := make([]Backend, 256)
		for i := range bs {
			bs[i] = Backend{addr(v*256 + i), 0}
		}
		both("fill", vip(v), bs, "")
	}
	// One more address: refused by both.
	both("address past MaxBackends", vip(100), []Backend{{addr(MaxBackends), 1}}, "at most 4096 distinct backend addresses")
	// Replacing an address by a new one needs both at once: refused.
	last := make([]Backend, 256)
	for i := range last {
		last[i] = Backend{addr(15*256 + i), 0}
	}
	last[0].Addr = addr(MaxBackends + 1)
	both("replace at MaxBackends", vip(15), last, "at most 4096 distinct backend addresses")
	// An address already in use joins other VIPs freely, up to MaxVIPs.
	for v := MaxBackends / 256; v < MaxVIPs; v++ {
		both("more VIPs", vip(v), []Backend{{addr(0), 1}}, "")
	}
	both("VIP past MaxVIPs", vip(MaxVIPs), []Backend{{addr(0), 1}}, "at most 256 VIPs")
	// Both still agree on what is installed: deleting every VIP works
	// in both, and the refused VIPs are in neither.
	for v := 0; v <= MaxVIPs; v++ {
		kerr, merr := p.lb.DeleteVIP(vip(v)), p.model.DeleteVIP(vip(v))
		if (kerr == nil) != (merr == nil) || (v < MaxVIPs) != (kerr == nil) {
			t.Fatalf("delete VIP %d: kernel %v, model %v", v, kerr, merr)
		}
	}

	// Slots: MaxBackends addresses, each a drained member of 16 VIPs,
	// fill MaxMembers; one more member is refused by both.
	q := load(t, Options{Table: maglev.Params{Size: 251}})
	all := make([]Backend, MaxBackends)
	for i := range all {
		all[i] = Backend{addr(i), 0}
	}
	for v := 0; v < MaxMembers/MaxBackends; v++ {
		if _, err := q.lb.SetVIP(vip(v), all); err != nil {
			t.Fatal(err)
		}
		if _, err := q.model.SetVIP(vip(v), all); err != nil {
			t.Fatal(err)
		}
	}
	p = q
	both("member past MaxMembers", vip(MaxMembers/MaxBackends), []Backend{{addr(0), 1}}, "at most 65536 backend slots")
}
