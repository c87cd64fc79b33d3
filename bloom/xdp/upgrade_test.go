//go:build linux

package xdp

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/cilium/ebpf/link"

	"github.com/dataplane-go/dataplane/bloom"
	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// TestKernel_PinnedLinkUpgrade replaces the program under a pinned link,
// as a process upgrading a data plane in place would: the first kernel,
// loaded with a PinPath, is attached to a loopback and its link pinned,
// and the kernel closed, as if its process had ended; its program goes on
// dropping the members. A second Load with the same options takes up the
// pinned filter and counters, and link.LoadPinnedLink and Update put its
// program under the link. The members are dropped and the others passed
// throughout, the counters run on across the swap, the link runs the new
// program, and once the link is unpinned and closed nothing runs.
func TestKernel_PinnedLinkUpgrade(t *testing.T) {
	kerneltest.RequireNetns(t)
	dir := kerneltest.BPFFS(t)
	linkPin := filepath.Join(filepath.Dir(dir), "link") // beside the maps, which Unpin owns
	opts := Options{Params: params(Classic, 1000, 0.01), Action: DropMembers, PinPath: dir}
	const member, other = 40001, 40002
	f := bloom.MustNew(opts.Params)
	k := flow.MustKey("127.0.0.1", "127.0.0.1", member, 9, 17)
	f.Add(KeyBytes(&k, KeyFlow))

	old := loadKernel(t, opts)
	if err := old.WriteFilter(f); err != nil {
		t.Fatal(err)
	}
	var nu *Kernel
	err := kerneltest.InLoopback(func(lo int) error {
		l, err := old.Attach(lo)
		if err != nil {
			return err
		}
		if err := l.Pin(linkPin); err != nil {
			l.Close()
			return err
		}
		if err := errors.Join(l.Close(), old.Close()); err != nil {
			return err
		}
		if err := sendBoth(member, other); err != nil {
			return fmt.Errorf("with the first kernel closed: %w", err)
		}

		if nu, err = Load(opts); err != nil {
			return err
		}
		pinned, err := link.LoadPinnedLink(linkPin, nil)
		if err != nil {
			return err
		}
		defer pinned.Close()
		if err := pinned.Update(nu.Program()); err != nil {
			return fmt.Errorf("update the pinned link: %w", err)
		}
		if err := sendBoth(member, other); err != nil {
			return fmt.Errorf("after the update: %w", err)
		}
		info, err := pinned.Info()
		if err != nil {
			return err
		}
		want, err := nu.Program().Info()
		if err != nil {
			return err
		}
		if id, _ := want.ID(); info.Program != id {
			return fmt.Errorf("the link runs program %d, want the new kernel's %d", info.Program, id)
		}

		if err := pinned.Unpin(); err != nil {
			return err
		}
		if err := pinned.Close(); err != nil {
			return err
		}
		if arrived, err := kerneltest.SendUDP(member, []byte("detached"), 5*time.Second); err != nil || !arrived {
			return fmt.Errorf("a member after the link was unpinned and closed: arrived %v (%v), want it passed with no program", arrived, err)
		}
		return nil
	})
	if nu != nil {
		defer nu.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	s, err := nu.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if want := (Stats{Passed: 2, Dropped: 2}); s != want {
		t.Errorf("Stats after two rounds, one through each program: %+v, want %+v", s, want)
	}
}

// sendBoth sends a datagram from each port: the one from member must be
// dropped, the other must arrive.
func sendBoth(member, other uint16) error {
	if arrived, err := kerneltest.SendUDP(member, []byte("member"), 300*time.Millisecond); err != nil || arrived {
		return fmt.Errorf("a member's datagram: arrived %v (%v), want it dropped", arrived, err)
	}
	if arrived, err := kerneltest.SendUDP(other, []byte("other"), 5*time.Second); err != nil || !arrived {
		return fmt.Errorf("another flow's datagram: arrived %v (%v), want it passed", arrived, err)
	}
	return nil
}
