//go:build linux

package xdp

import (
	"strings"
	"testing"
)

// TestSetVIP_MTUBelowIPv6Minimum: an MTU below 1280 (IPv6's minimum link
// MTU) is refused for IPv6 backends, by the kernel's loader and the model
// alike, with an error naming the backend and both numbers; IPv4 backends
// and an MTU of 1280 are accepted. A refused SetVIP installs nothing.
func TestSetVIP_MTUBelowIPv6Minimum(t *testing.T) {
	v := VIP{}
	for _, c := range []struct {
		mtu  int
		bs   []Backend
		want string // "" for accepted
	}{
		{1279, backends("10.1.0.1", "2001:db8:1::1"), "IPv6 backend 2001:db8:1::1 needs Options.MTU of at least 1280 (IPv6's minimum link MTU), loaded with 1279"},
		{576, backends("2001:db8:1::1"), "loaded with 576"},
		{576, backends("10.1.0.1"), ""},
		{1280, backends("10.1.0.1", "2001:db8:1::1"), ""},
		{0, backends("2001:db8:1::1"), ""}, // DefaultMTU
	} {
		p := load(t, Options{MTU: c.mtu})
		_, err := p.lb.SetVIP(v, c.bs)
		_, merr := p.model.SetVIP(v, c.bs)
		for who, err := range map[string]error{"kernel": err, "model": merr} {
			switch {
			case c.want == "" && err != nil:
				t.Errorf("MTU %d, %v: %s SetVIP: %v", c.mtu, c.bs, who, err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("MTU %d, %v: %s SetVIP = %v, want an error containing %q", c.mtu, c.bs, who, err, c.want)
			}
		}
		if c.want != "" {
			if p.lb.Table(v) != nil {
				t.Errorf("MTU %d: a refused SetVIP installed a table", c.mtu)
			}
		}
	}
}
