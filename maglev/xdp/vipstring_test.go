package xdp

import (
	"net/netip"
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
