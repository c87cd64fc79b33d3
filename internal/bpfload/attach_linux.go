package bpfload

import (
	"errors"
	"fmt"
	"net"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// Attach attaches the XDP program prog of the named kernel to the
// interface with index ifindex, in the mode flags ask for (0: the
// kernel's choice, native where the driver has it). An index that names
// no interface of the calling thread's network namespace is refused with
// an error saying so, where the kernel would answer only "invalid
// argument"; an interface that already has an XDP program is refused with
// an error saying so, where the kernel would answer only "device or
// resource busy"; other errors name the interface.
func Attach(prog *ebpf.Program, kernel string, ifindex int, flags link.XDPAttachFlags) (link.Link, error) {
	if ifindex < 1 {
		return nil, fmt.Errorf("attach %s kernel: interface index %d (indexes start at 1; net.InterfaceByName gives one)", kernel, ifindex)
	}
	ifc, err := net.InterfaceByIndex(ifindex)
	if err != nil {
		return nil, fmt.Errorf("attach %s kernel: no interface with index %d in this network namespace: %w", kernel, ifindex, err)
	}
	l, err := link.AttachXDP(link.XDPOptions{Program: prog, Interface: ifindex, Flags: flags})
	if errors.Is(err, unix.EBUSY) {
		return nil, fmt.Errorf("attach %s kernel to interface %d (%s): it already has an XDP program, and it takes one: detach that one first (close its link, or ip link set dev %s xdp off): %w", kernel, ifindex, ifc.Name, ifc.Name, err)
	}
	if err != nil {
		return nil, fmt.Errorf("attach %s kernel to interface %d (%s): %w", kernel, ifindex, ifc.Name, err)
	}
	return l, nil
}
