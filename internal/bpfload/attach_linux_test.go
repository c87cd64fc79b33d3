//go:build linux

package bpfload_test

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"runtime"
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

// TestAttach_VethMTU: a veth refuses an XDP program without multi-buffer
// support while its peer's MTU is above about a page, with only "numerical
// result out of range"; Attach says what that means and what to do. At
// MTU 1500 the same program attaches. With it attached in generic mode, a
// program in native mode is refused, saying why, where the kernel answers
// only "file exists". The pair lives in a network namespace of the test's
// own, which ends with its thread.
func TestAttach_VethMTU(t *testing.T) {
	kerneltest.RequireNetns(t)
	ipCmd, err := exec.LookPath("ip")
	if err != nil {
		kerneltest.Skip(t, "no ip command (iproute2) to make a veth pair")
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "GPL", Instructions: asm.Instructions{
		asm.Mov.Imm(asm.R0, 2), asm.Return(), // XDP_PASS
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()

	var big, small, otherMode error
	var index int
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread and its namespace end with the goroutine
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		// ip forks from this thread, so it runs in the new namespace.
		ip := func(args ...string) error {
			if out, err := exec.Command(ipCmd, args...).CombinedOutput(); err != nil {
				return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
			}
			return nil
		}
		if err := ip("link", "add", "dpmtu0", "mtu", "9000", "type", "veth", "peer", "name", "dpmtu1", "mtu", "9000"); err != nil {
			errc <- err
			return
		}
		ifc, err := net.InterfaceByName("dpmtu0")
		if err != nil {
			errc <- err
			return
		}
		index = ifc.Index
		if l, err := bpfload.Attach(prog, "test", ifc.Index, 0); err == nil {
			l.Close()
		} else {
			big = err
		}
		if err := ip("link", "set", "dpmtu1", "mtu", "1500"); err != nil {
			errc <- err
			return
		}
		l, err := bpfload.Attach(prog, "test", ifc.Index, 0)
		if err == nil {
			l.Close()
		}
		small = err
		// Native and generic XDP on one interface: the second is refused.
		if l, err = bpfload.Attach(prog, "test", ifc.Index, link.XDPGenericMode); err != nil {
			errc <- err
			return
		}
		if l2, err := bpfload.Attach(prog, "test", ifc.Index, link.XDPDriverMode); err == nil {
			l2.Close()
		} else {
			otherMode = err
		}
		l.Close()
		errc <- nil
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("attach test kernel to interface %d (dpmtu0): the driver refuses XDP at this MTU (9000 bytes; on a veth, the peer's MTU counts too): ", index)
	if big == nil || !strings.HasPrefix(big.Error(), want) ||
		!strings.Contains(big.Error(), "link.XDPGenericMode") || !errors.Is(big, unix.ERANGE) {
		t.Errorf("peer MTU 9000: %v, want an error starting %q, naming generic mode and matching ERANGE", big, want)
	}
	if small != nil {
		t.Errorf("peer MTU 1500: %v", small)
	}
	want = fmt.Sprintf("attach test kernel to interface %d (dpmtu0): it already has an XDP program in the other mode (native and generic XDP cannot be active at once): "+
		"detach that one first (close its link, or ip link set dev dpmtu0 xdpgeneric off, or xdpdrv off): ", index)
	if otherMode == nil || !strings.HasPrefix(otherMode.Error(), want) || !errors.Is(otherMode, unix.EEXIST) {
		t.Errorf("native mode beside generic: %v, want an error starting %q and matching EEXIST", otherMode, want)
	}
}
