//go:build linux

package xdp

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/flowradar"
)

// TestKernel_LongFrameBytes: a frame longer than 65535 bytes adds its
// whole length to ByteCount, as the Go encoder's uint32 size does. The
// kernel used to take the length from the parser's 16-bit frame_len and
// add it modulo 2^16 (13 bytes for this 65549-byte frame). Test runs
// cannot carry such a frame (a page at most), so the test sends a
// 65507-byte UDP datagram over the loopback (MTU 65536) of a network
// namespace of its own, with the program attached in generic mode, which
// gives it the whole frame linear. The namespace goes with the thread the
// test locks and never unlocks.
func TestKernel_LongFrameBytes(t *testing.T) {
	for _, perCPU := range []bool{false, true} {
		t.Run(fmt.Sprintf("percpu=%v", perCPU), func(t *testing.T) {
			p := flowradar.Params{Cells: 64, Hashes: 4, FilterBits: 1024, FilterHashes: 7, Seed: 0x10f}
			k := loadKernel(t, p, perCPU)
			const payload = 65507 // the largest UDP payload over IPv4
			errc := make(chan error, 1)
			go func() {
				runtime.LockOSThread() // never unlocked: the thread and its namespace end with the goroutine
				errc <- sendOnLoopback(k, payload)
			}()
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			got, err := k.Read(0)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := flowradar.NewTable(p)
			key := flow.KeyFrom4([4]byte{127, 0, 0, 1}, [4]byte{127, 0, 0, 1}, 40000, 9, flow.ProtoUDP)
			const frame = 14 + 20 + 8 + payload
			want.Add(&key, frame)
			if !got.Equal(want) {
				var bytes uint64
				for _, c := range got.Cells() {
					bytes += c.ByteCount
				}
				t.Fatalf("one %d-byte frame: the kernel's table differs from the Go encoder's (ByteCount summed over the %d sub-tables %d, want %d)", frame, p.Hashes, bytes, p.Hashes*frame)
			}
		})
	}
}

// sendOnLoopback, on a locked thread, moves it to a new network namespace,
// brings its loopback up, attaches k to it in generic mode and sends one
// UDP datagram of payload bytes from 127.0.0.1:40000 to a socket bound to
// 127.0.0.1:9 (so that no ICMP error follows it).
func sendOnLoopback(k *Kernel, payload int) error {
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
	local := [4]byte{127, 0, 0, 1}
	rx, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	defer unix.Close(rx)
	if err := unix.Bind(rx, &unix.SockaddrInet4{Port: 9, Addr: local}); err != nil {
		return err
	}
	tv := unix.NsecToTimeval(int64(5 * time.Second))
	if err := unix.SetsockoptTimeval(rx, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return err
	}
	tx, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	defer unix.Close(tx)
	if err := unix.Bind(tx, &unix.SockaddrInet4{Port: 40000, Addr: local}); err != nil {
		return err
	}
	l, err := link.AttachXDP(link.XDPOptions{Program: k.Program(), Interface: lo.Index, Flags: link.XDPGenericMode})
	if err != nil {
		return fmt.Errorf("attach to lo: %w", err)
	}
	defer l.Close()
	if err := unix.Sendto(tx, make([]byte, payload), 0, &unix.SockaddrInet4{Port: 9, Addr: local}); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	// The datagram arrives (generic XDP ran) before it can be read.
	buf := make([]byte, payload+1)
	n, _, err := unix.Recvfrom(rx, buf, 0)
	if err != nil {
		return fmt.Errorf("receive: %w", err)
	}
	if n != payload {
		return errors.New("received a datagram of another size")
	}
	return nil
}
