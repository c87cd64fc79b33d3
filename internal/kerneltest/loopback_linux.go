package kerneltest

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

var netnsProbe struct {
	once sync.Once
	err  error
}

// NetnsAvailable reports whether this process can make a network
// namespace of its own, as [LoopbackUDP] does, and if not, why. That
// takes CAP_SYS_ADMIN, which is not among the BPF privileges [Available]
// probes: a process holding CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN runs
// the kernels but cannot make the namespace.
func NetnsAvailable() error {
	netnsProbe.once.Do(func() {
		errc := make(chan error, 1)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread and its namespace end with the goroutine
			if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
				errc <- fmt.Errorf("unshare network namespace (needs CAP_SYS_ADMIN): %w", err)
				return
			}
			errc <- nil
		}()
		netnsProbe.err = <-errc
	})
	return netnsProbe.err
}

// RequireNetns is [Require] for tests that also make a network namespace
// ([LoopbackUDP]): it skips tb, or fails it when
// DATAPLANE_REQUIRE_KERNEL=1, when BPF programs cannot run here or when
// this process cannot make a network namespace ([NetnsAvailable]).
func RequireNetns(tb testing.TB) {
	tb.Helper()
	Require(tb)
	if err := NetnsAvailable(); err != nil {
		Skip(tb, fmt.Sprintf("a loopback test cannot make its network namespace here: %v", err))
	}
}

// LoopbackUDP runs prog on one real frame longer than a test run can
// carry: it sends a UDP datagram of payload (at most 65,507 bytes) from
// 127.0.0.1:40000 to 127.0.0.1:9 over the loopback (MTU 65,536) of a
// network namespace of its own, with prog attached in generic mode, which
// hands XDP the whole frame linear: 14 + 20 + 8 + len(payload) bytes. The
// namespace lives on a thread locked for the purpose and never unlocked,
// so it ends with the call; nothing is left behind. Call [RequireNetns]
// first: the namespace takes a privilege that BPF does not.
func LoopbackUDP(prog *ebpf.Program, payload []byte) error {
	return LoopbackUDPVia(func(ifindex int) (link.Link, error) {
		return link.AttachXDP(link.XDPOptions{Program: prog, Interface: ifindex, Flags: link.XDPGenericMode})
	}, payload)
}

// LoopbackUDPVia is [LoopbackUDP] with the program attached by attach,
// which is given the loopback's index in the new namespace: a kernel's
// own Attach method, in the mode it chooses (generic, on a loopback).
func LoopbackUDPVia(attach func(ifindex int) (link.Link, error), payload []byte) error {
	return InLoopback(func(lo int) error {
		l, err := attach(lo)
		if err != nil {
			return fmt.Errorf("attach to lo: %w", err)
		}
		defer l.Close()
		arrived, err := SendUDP(40000, payload, 5*time.Second)
		if err == nil && !arrived {
			err = errors.New("the datagram did not arrive")
		}
		return err
	})
}

// InLoopback runs fn in a network namespace of its own, whose loopback
// (127.0.0.1, MTU 65,536) is up, and returns its error; fn is given the
// loopback's index. The namespace lives on a thread locked for the
// purpose and never unlocked, so it ends with the call: what fn attaches
// there goes with it, though a link it pins stays pinned (defunct) until
// unpinned. fn runs on that thread and must not start goroutines that
// open sockets, which would open them in the test's own namespace. Call
// [RequireNetns] first.
func InLoopback(fn func(lo int) error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread and its namespace end with the goroutine
		errc <- inLoopback(fn)
	}()
	return <-errc
}

func inLoopback(fn func(lo int) error) error {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("unshare network namespace: %w", err)
	}
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		return err
	}
	ctl, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	defer unix.Close(ctl)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	ifr.SetUint16(unix.IFF_UP | unix.IFF_LOOPBACK | unix.IFF_RUNNING)
	if err := unix.IoctlIfreq(ctl, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring lo up: %w", err)
	}
	return fn(lo.Index)
}

// SendUDP, called within [InLoopback]'s fn, sends a UDP datagram of
// payload (at most 65,507 bytes) from 127.0.0.1:srcPort to 127.0.0.1:9
// and reports whether it arrived, waiting at most wait (at least a
// microsecond) for it: a program that drops it shows as false after the
// whole wait, with no error. The datagram is 14 + 20 + 8 + len(payload) bytes on the wire;
// its flow key is UDP 127.0.0.1:srcPort to 127.0.0.1:9.
func SendUDP(srcPort uint16, payload []byte, wait time.Duration) (arrived bool, err error) {
	if wait < time.Microsecond { // a zero timeout would wait for ever
		return false, fmt.Errorf("SendUDP: wait must be at least 1µs, got %v", wait)
	}
	local := [4]byte{127, 0, 0, 1}
	rx, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return false, err
	}
	defer unix.Close(rx)
	if err := unix.Bind(rx, &unix.SockaddrInet4{Port: 9, Addr: local}); err != nil { // bound: no ICMP error follows
		return false, err
	}
	tv := unix.NsecToTimeval(int64(wait))
	if err := unix.SetsockoptTimeval(rx, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return false, err
	}
	tx, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return false, err
	}
	defer unix.Close(tx)
	if err := unix.Bind(tx, &unix.SockaddrInet4{Port: int(srcPort), Addr: local}); err != nil {
		return false, err
	}
	if err := unix.Sendto(tx, payload, 0, &unix.SockaddrInet4{Port: 9, Addr: local}); err != nil {
		return false, fmt.Errorf("send: %w", err)
	}
	// The datagram arrives (generic XDP ran) before it can be read.
	buf := make([]byte, len(payload)+1)
	n, _, err := unix.Recvfrom(rx, buf, 0)
	if errors.Is(err, unix.EAGAIN) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("receive: %w", err)
	}
	if n != len(payload) {
		return false, errors.New("received a datagram of another size")
	}
	return true, nil
}
