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
// resource busy" (that program in the same mode) or "file exists" (in the
// other mode: native and generic XDP cannot be active at once); a
// driver's refusal of the interface's MTU ("numerical
// result out of range": the kernels take no multi-buffer frames, and veth
// takes them up to an MTU of 3,506 bytes with 4 KiB pages) is explained
// with what to do; other errors name the interface.
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
	if errors.Is(err, unix.EEXIST) {
		return nil, fmt.Errorf("attach %s kernel to interface %d (%s): it already has an XDP program in the other mode (native and generic XDP cannot be active at once): detach that one first (close its link, or ip link set dev %s xdpgeneric off, or xdpdrv off): %w", kernel, ifindex, ifc.Name, ifc.Name, err)
	}
	if errors.Is(err, unix.ERANGE) {
		return nil, fmt.Errorf("attach %s kernel to interface %d (%s): the driver refuses XDP at this MTU (%d bytes; on a veth, the peer's MTU counts too): "+
			"the kernels take no multi-buffer frames, so a frame must fit a page (on a veth with 4 KiB pages, an MTU of at most 3,506 bytes); "+
			"lower the MTU, or attach in generic mode (link.XDPGenericMode: give it to an Attach that takes a mode, or to link.AttachXDP with the kernel's Program()), where XDP sees GRO- and GSO-aggregated frames whole: %w",
			kernel, ifindex, ifc.Name, ifc.MTU, err)
	}
	if err != nil {
		return nil, fmt.Errorf("attach %s kernel to interface %d (%s): %w", kernel, ifindex, ifc.Name, err)
	}
	return l, nil
}
