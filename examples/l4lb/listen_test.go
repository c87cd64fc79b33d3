//go:build linux

package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"testing"
)

// TestListen_ClosesOnError: when a backend's TCP or session listener
// cannot open, listen returns the error and closes the sockets it already
// opened, which run could not close (they were in no list) and which kept
// the backend's namespace alive after "ip netns del". The same holds with
// IPv6 sockets.
func TestListen_ClosesOnError(t *testing.T) {
	requireNetns(t)
	for _, f := range families {
		for _, port := range []int{tcpPort, sessionPort} {
			t.Run(fmt.Sprintf("%s/port=%d", f, port), func(t *testing.T) { testListenClosesOnError(t, f, port) })
		}
	}
}

func testListenClosesOnError(t *testing.T, f family, taken int) {
	tp := &topo{prefix: fmt.Sprintf("l4lb%dlisten", os.Getpid()), fam: f}
	defer func() {
		if err := tp.close(); err != nil {
			t.Error(err)
		}
	}()
	if err := tp.addNS("b"); err != nil {
		t.Fatal(err)
	}
	if err := tp.in("b", f.addrAdd(f.vipHost(), "lo")...); err != nil {
		t.Fatal(err)
	}
	var busy net.Listener
	if err := tp.inNS("b", func() (err error) {
		busy, err = net.Listen(f.network("tcp"), net.JoinHostPort(f.vip(), fmt.Sprint(taken)))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if uc, tl, sl, err := tp.listen("b"); err == nil {
		uc.Close()
		tl.Close()
		sl.Close()
		t.Fatalf("listen with TCP port %d taken: no error", taken)
	}
	// bind binds the VIP's UDP or TCP port again, and closes it.
	bind := func(tcp bool, port int) error {
		return tp.inNS("b", func() error {
			addr := net.JoinHostPort(f.vip(), fmt.Sprint(port))
			var c io.Closer
			var err error
			if tcp {
				c, err = net.Listen(f.network("tcp"), addr)
			} else {
				c, err = net.ListenPacket(f.network("udp"), addr)
			}
			if err == nil {
				c.Close()
			}
			return err
		})
	}
	if err := bind(false, udpPort); err != nil {
		t.Errorf("UDP port still taken after listen failed: %v", err)
	}
	if taken != tcpPort {
		if err := bind(true, tcpPort); err != nil {
			t.Errorf("TCP port %d still taken after listen failed: %v", tcpPort, err)
		}
	}
}
