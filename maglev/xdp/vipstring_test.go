package xdp

import (
	"net"
	"net/netip"
	"strings"
	"testing"
)

// TestVIP_String: the catch-all VIP is "*", others address:port/protocol,
// with an IPv6 address in brackets so that its port does not read as
// part of it.
func TestVIP_String(t *testing.T) {
	for _, c := range []struct {
		vip  VIP
		want string
	}{
		{VIP{}, "*"},
		{VIP{Addr: netip.MustParseAddr("198.51.100.1"), Port: 80, Proto: 6}, "198.51.100.1:80/6"},
		{VIP{Addr: netip.MustParseAddr("2001:db8::1"), Proto: 17}, "[2001:db8::1]:0/17"},
	} {
		if got := c.vip.String(); got != c.want {
			t.Errorf("%#v.String() = %q, want %q", c.vip, got, c.want)
		}
	}
}

// TestBackends: one backend per address, in order, each of weight 1 (a
// literal without Weight would be drained).
func TestBackends(t *testing.T) {
	a, b := netip.MustParseAddr("10.1.0.1"), netip.MustParseAddr("2001:db8::7")
	got := Backends(a, b)
	if len(got) != 2 || got[0] != (Backend{a, 1}) || got[1] != (Backend{b, 1}) {
		t.Errorf("Backends(%v, %v) = %v", a, b, got)
	}
	if got := Backends(); len(got) != 0 {
		t.Errorf("Backends() = %v, want none", got)
	}
}

// TestSetVIP_Refuses: a VIP with an address and protocol 0 matches no
// packet (a VIP matches one protocol), so SetVIP refuses it and says to
// set Proto; so it does a port on a protocol without ports, and a port or
// protocol on the catch-all VIP. The model and the kernel share the check.
func TestSetVIP_Refuses(t *testing.T) {
	m, err := NewModel(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetConfig(Config{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, Src4: netip.MustParseAddr("10.0.0.9")}); err != nil {
		t.Fatal(err)
	}
	be := []Backend{{Addr: netip.MustParseAddr("10.0.0.2")}}
	for _, c := range []struct {
		v    VIP
		want string // "" for accepted
	}{
		{VIP{Addr: netip.MustParseAddr("fd66::101")}, "maglev kernel: VIP [fd66::101]:0/0 has protocol 0, which no traffic carries (a VIP matches one protocol): set Proto, to TCP (6), UDP (17)"},
		{VIP{Addr: netip.MustParseAddr("10.0.0.1"), Port: 80}, "maglev kernel: VIP 10.0.0.1:80/0 has protocol 0"},
		{VIP{Addr: netip.MustParseAddr("10.0.0.1"), Port: 80, Proto: 1}, "maglev kernel: VIP 10.0.0.1:80/1: a port needs protocol TCP (6) or UDP (17)"},
		{VIP{Port: 80}, "maglev kernel: the catch-all VIP has no port or protocol, got 80/0"},
		{VIP{Addr: netip.MustParseAddr("fd66::101"), Proto: 6}, ""},
		{VIP{Addr: netip.MustParseAddr("10.0.0.1"), Proto: 47}, ""},
		{VIP{}, ""},
	} {
		_, err := m.SetVIP(c.v, be)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.HasPrefix(err.Error(), c.want)) {
			t.Errorf("SetVIP(%v): %v, want %q", c.v, err, c.want)
		}
	}
}
