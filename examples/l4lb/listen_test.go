//go:build linux

package main

import (
	"fmt"
	"net"
	"os"
	"testing"
)

// TestListen_ClosesOnError: when a backend's TCP listener cannot open,
// listen returns the error and closes the UDP socket it already opened,
// which run could not close (it was in no list) and which kept the
// backend's namespace alive after "ip netns del". The same holds with
// IPv6 sockets.
func TestListen_ClosesOnError(t *testing.T) {
	requireNetns(t)
	for _, f := range families {
		t.Run(f.String(), func(t *testing.T) { testListenClosesOnError(t, f) })
	}
}

func testListenClosesOnError(t *testing.T, f family) {
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
		busy, err = net.Listen(f.network("tcp"), net.JoinHostPort(f.vip(), fmt.Sprint(tcpPort)))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if uc, tl, err := tp.listen("b"); err == nil {
		uc.Close()
		tl.Close()
		t.Fatal("listen with the TCP port taken: no error")
	}
	if err := tp.inNS("b", func() error {
		uc, err := net.ListenPacket(f.network("udp"), net.JoinHostPort(f.vip(), fmt.Sprint(udpPort)))
		if err == nil {
			uc.Close()
		}
		return err
	}); err != nil {
		t.Errorf("UDP port still taken after listen failed: %v", err)
	}
}
