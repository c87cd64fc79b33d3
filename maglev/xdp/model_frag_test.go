package xdp

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/pkt"
	"github.com/dataplane-go/dataplane/maglev"
)

// fragment splits the IP packet of frame (an untagged Ethernet frame from
// internal/pkt, IPv4 without options or IPv6 without extension headers)
// into n fragments of about equal size, offsets in 8-byte units, as a
// sender would: IPv4 fragments keep the header (identification id, MF on
// all but the last); IPv6 fragments get a fragment header (identification
// id) in front of the fragmentable part, whose first header (the
// original next header) the fragment header names.
func fragment(t *testing.T, frame []byte, id uint32, n int) [][]byte {
	t.Helper()
	ip := frame[14:]
	v6 := ip[0]>>4 == 6
	hlen, proto := 20, ip[9]
	src, dst := netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))
	if v6 {
		hlen, proto = 40, ip[6]
		src, dst = netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40]))
	}
	body := ip[hlen:]
	step := ((len(body)+n-1)/n + 7) &^ 7
	if step == 0 || step*(n-1) >= len(body) {
		t.Fatalf("a %d-byte payload does not make %d fragments", len(body), n)
	}
	var out [][]byte
	for off := 0; off < len(body); off += step {
		end := min(off+step, len(body))
		more := end < len(body)
		f := pkt.Frame{Payload: body[off:end]}
		if v6 {
			f.IP6 = &pkt.IPv6{Src: src, Dst: dst, Protocol: proto,
				Ext: []pkt.Ext{{Type: pkt.ExtFragment, FragOffset: uint16(off / 8), More: more, ID: id}}}
		} else {
			fl := uint8(0)
			if more {
				fl = pkt.MF
			}
			f.IP4 = &pkt.IPv4{Src: src, Dst: dst, ID: uint16(id), Flags: fl, FragOffset: uint16(off / 8), Protocol: proto}
		}
		out = append(out, f.Bytes())
	}
	if len(out) != n {
		t.Fatalf("made %d fragments, want %d", len(out), n)
	}
	return out
}

func TestOptions_Frags(t *testing.T) {
	for _, bad := range []int{-1, 1<<24 + 1} {
		_, err := NewModel(Options{Frags: bad})
		if err == nil || !strings.Contains(err.Error(), "Frags must be in [0, 16777216]") || !strings.Contains(err.Error(), fmt.Sprint(bad)) {
			t.Errorf("Frags %d: got %v, want an error naming Frags, the accepted range and the value", bad, err)
		}
	}
	for _, good := range []int{0, 1, DefaultFrags, 1 << 24} {
		if _, err := NewModel(Options{Frags: good}); err != nil {
			t.Errorf("Frags %d: %v", good, err)
		}
	}
}

// TestModel_Fragments: the model alone (no kernel needed) sends every
// fragment of a datagram where its first fragment went, under a
// catch-all VIP, and passes a later fragment it has no first fragment for.
func TestModel_Fragments(t *testing.T) {
	m, err := NewModel(Options{Seed: 1, Table: maglev.Params{Size: 251}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetConfig(Config{SrcMAC: make([]byte, 6), DstMAC: make([]byte, 6),
		Src4: netip.MustParseAddr("192.0.2.1"), Src6: netip.MustParseAddr("2001:db8:ffff::1")}); err != nil {
		t.Fatal(err)
	}
	tab, err := m.SetVIP(VIP{}, []Backend{{netip.MustParseAddr("10.1.0.1"), 1}, {netip.MustParseAddr("10.1.0.2"), 1},
		{netip.MustParseAddr("10.1.0.3"), 1}, {netip.MustParseAddr("2001:db8:1::1"), 1}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		// 203.0.113.i:(3000+i) > 198.51.100.1:53 UDP or its IPv6 twin,
		// 300 bytes in 3 fragments
		full := pkt.UDP4(fmt.Sprintf("203.0.113.%d:%d", i, 3000+i), "198.51.100.1:53", make([]byte, 300))
		if i%2 == 1 {
			full = pkt.UDP6(fmt.Sprintf("[2001:db8:a::%x]:%d", i, 3000+i), "[2001:db8::1]:53", make([]byte, 300))
		}
		info, _ := flow.Parse(full)
		j, _ := tab.Pick(info.Key.Hash(1))
		want := netip.MustParseAddr(tab.Backend(j).Name)
		frags := fragment(t, full, uint32(i)<<8, 3)
		if v, _, _ := m.Process(frags[2]); v != Pass {
			t.Fatalf("datagram %d: a later fragment before its first: verdict %d, want pass", i, v)
		}
		for k, f := range frags {
			if v, _, b := m.Process(f); v != TX || b != want {
				t.Fatalf("datagram %d, fragment %d: verdict %d to %v, want TX to %v", i, k, v, b, want)
			}
		}
	}
}

// The zero Model (not made by NewModel) refuses SetConfig, SetVIP and
// DeleteVIP with an error pointing at NewModel (SetVIP panicked writing
// to a nil map); Process passes every frame and Stats is zero.
func TestModel_Zero(t *testing.T) {
	var m Model
	vip := VIP{Addr: netip.MustParseAddr("10.0.0.2"), Port: 53, Proto: 17}
	bs := []Backend{{Addr: netip.MustParseAddr("192.0.2.10"), Weight: 1}}
	cfg := Config{SrcMAC: make([]byte, 6), DstMAC: make([]byte, 6), Src4: netip.MustParseAddr("192.0.2.1")}
	for method, fn := range map[string]func() error{
		"SetConfig": func() error { return m.SetConfig(cfg) },
		"SetVIP":    func() error { _, err := m.SetVIP(vip, bs); return err },
		"DeleteVIP": func() error { return m.DeleteVIP(vip) },
	} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("zero Model: %s panics: %v", method, r)
				}
			}()
			if err := fn(); !errors.Is(err, errZeroModel) {
				t.Errorf("zero Model: %s: %v, want %v", method, err, errZeroModel)
			}
		}()
	}
	if v, out, _ := m.Process(pkt.UDP4("10.0.0.1:1000", "10.0.0.2:53", nil)); v != Pass || out != nil {
		t.Errorf("zero Model: Process: %d, %x, want pass", v, out)
	}
	if s := m.Stats(); s.Counters.PassNotVIP != 1 || len(s.Backends) != 0 {
		t.Errorf("zero Model: Stats %+v, want one PassNotVIP", s)
	}
}
