//go:build linux

package bpfload_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/dataplane-go/dataplane/internal/bpfload"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// TestAttach: Attach refuses an index below 1 and an index that names no
// interface by saying so; it attaches in the mode asked for (a loopback
// has no native XDP, so driver mode fails, naming the interface, where
// generic mode succeeds), and the link it returns is attached to that
// interface.
func TestAttach(t *testing.T) {
	kerneltest.RequireNetns(t)
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "GPL", Instructions: asm.Instructions{
		asm.Mov.Imm(asm.R0, 2), asm.Return(), // XDP_PASS
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()

	for _, c := range []struct {
		ifindex int
		want    string
	}{
		{0, "attach test kernel: interface index 0 (indexes start at 1"},
		{-1, "attach test kernel: interface index -1 (indexes start at 1"},
		{1 << 30, fmt.Sprintf("attach test kernel: no interface with index %d in this network namespace: ", 1<<30)},
	} {
		if l, err := bpfload.Attach(prog, "test", c.ifindex, 0); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			if l != nil {
				l.Close()
			}
			t.Errorf("interface index %d: %v, want an error starting %q", c.ifindex, err, c.want)
		}
	}

	// The attachments happen in a namespace of the test's own, on its
	// loopback, which then carries a datagram through the program.
	var driverErr, busyErr, infoErr error
	var linked uint32
	var lo int
	err = kerneltest.LoopbackUDPVia(func(ifindex int) (link.Link, error) {
		lo = ifindex
		if l, err := bpfload.Attach(prog, "test", ifindex, link.XDPDriverMode); err == nil {
			l.Close()
		} else {
			driverErr = err
		}
		l, err := bpfload.Attach(prog, "test", ifindex, link.XDPGenericMode)
		if err != nil {
			return nil, err
		}
		if l2, err := bpfload.Attach(prog, "test", ifindex, link.XDPGenericMode); err == nil {
			l2.Close()
		} else {
			busyErr = err
		}
		info, err := l.Info()
		if err != nil {
			infoErr = err
		} else if x := info.XDP(); x != nil {
			linked = x.Ifindex
		}
		return l, nil
	}, make([]byte, 100))
	if err != nil {
		t.Fatalf("generic mode: %v", err)
	}
	want := fmt.Sprintf("attach test kernel to interface %d (lo): ", lo)
	if driverErr == nil || !strings.HasPrefix(driverErr.Error(), want) {
		t.Errorf("driver mode on a loopback: %v, want an error starting %q", driverErr, want)
	}
	busy := want + "it already has an XDP program, and it takes one: detach that one first (close its link, or ip link set dev lo xdp off): "
	if busyErr == nil || !strings.HasPrefix(busyErr.Error(), busy) || !errors.Is(busyErr, unix.EBUSY) {
		t.Errorf("a second program on the loopback: %v, want an error starting %q and matching EBUSY", busyErr, busy)
	}
	if infoErr != nil || linked != uint32(lo) {
		t.Errorf("the link is attached to interface %d (%v), want %d", linked, infoErr, lo)
	}
}
