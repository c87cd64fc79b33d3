//go:build linux

package xdp_test

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/dataplane-go/dataplane/maglev/xdp"
)

// Load the balancer, describe the wire, serve a VIP over three backends
// and attach to an interface. Needs privileges, so it is only compiled.
func Example() {
	lb, err := xdp.Load(xdp.Options{Seed: 1, ConnTrack: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer lb.Close()
	_ = lb.SetConfig(xdp.Config{
		SrcMAC: net.HardwareAddr{0x02, 0, 0, 0, 0, 1},
		DstMAC: net.HardwareAddr{0x02, 0, 0, 0, 0, 2},
		Src4:   netip.MustParseAddr("10.0.0.1"),
	})
	vip := xdp.VIP{Addr: netip.MustParseAddr("198.51.100.1"), Port: 80, Proto: 6}
	_, _ = lb.SetVIP(vip, []xdp.Backend{
		{Addr: netip.MustParseAddr("10.1.0.1"), Weight: 1},
		{Addr: netip.MustParseAddr("10.1.0.2"), Weight: 1},
		{Addr: netip.MustParseAddr("10.1.0.3"), Weight: 2},
	})
	if ifc, err := net.InterfaceByName("eth0"); err == nil {
		if l, err := lb.Attach(ifc.Index, 0); err == nil {
			defer l.Close()
		}
	}
	st, _ := lb.Stats()
	for addr, b := range st.Backends {
		fmt.Println(addr, b.Packets, b.Bytes)
	}
}
