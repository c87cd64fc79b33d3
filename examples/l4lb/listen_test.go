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
// backend's namespace alive after "ip netns del".
func TestListen_ClosesOnError(t *testing.T) {
	requireNetns(t)
	tp := &topo{prefix: fmt.Sprintf("l4lb%dlisten", os.Getpid())}
	defer func() {
		if err := tp.close(); err != nil {
			t.Error(err)
		}
	}()
	if err := tp.addNS("b"); err != nil {
		t.Fatal(err)
	}
	if err := tp.in("b", "addr", "add", vip+"/32", "dev", "lo"); err != nil {
		t.Fatal(err)
	}
	var busy net.Listener
	if err := tp.inNS("b", func() (err error) {
		busy, err = net.Listen("tcp4", fmt.Sprintf("%s:%d", vip, tcpPort))
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
		uc, err := net.ListenPacket("udp4", fmt.Sprintf("%s:%d", vip, udpPort))
		if err == nil {
			uc.Close()
		}
		return err
	}); err != nil {
		t.Errorf("UDP port still taken after listen failed: %v", err)
	}
}
