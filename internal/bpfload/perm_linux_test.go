//go:build linux

package bpfload_test

import (
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"

	"github.com/dataplane-go/dataplane/internal/bpfload"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// withoutCapabilities runs f on an OS thread whose effective capabilities
// are all dropped (capabilities belong to a thread, and a locked thread
// runs nothing else), then lets that thread end with its goroutine, so no
// other code ever runs without them.
func withoutCapabilities(t *testing.T, f func() []error) []error {
	t.Helper()
	done := make(chan []error, 1)
	dropped := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			dropped <- err
			return
		}
		data[0].Effective, data[1].Effective = 0, 0
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			dropped <- err
			return
		}
		dropped <- nil
		done <- f()
	}()
	if err := <-dropped; err != nil {
		t.Fatalf("drop the thread's capabilities: %v", err)
	}
	return <-done
}

// TestLoad_Unprivileged: a caller without the privileges BPF needs gets
// errors from Load and NewWaiter that match os.ErrPermission and name those
// privileges (the kernel's EPERM, and cilium/ebpf's hint that comes with
// it, speak of memlock limits only).
func TestLoad_Unprivileged(t *testing.T) {
	kerneltest.Require(t)
	spec := &ebpf.CollectionSpec{Programs: map[string]*ebpf.ProgramSpec{
		"p": {Type: ebpf.XDP, License: "GPL", Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 2), asm.Return()}},
	}}
	type objects struct {
		P *ebpf.Program `ebpf:"p"`
	}
	// Loaded once with privileges first, so that no feature probe of
	// cilium/ebpf runs (and caches its answer) without them.
	var objs objects
	if err := bpfload.Load(spec, "test", &objs); err != nil {
		t.Fatalf("load with privileges: %v", err)
	}
	objs.P.Close()
	w, err := bpfload.NewWaiter()
	if err != nil {
		t.Fatalf("NewWaiter with privileges: %v", err)
	}
	w.Close()

	errs := withoutCapabilities(t, func() []error {
		var objs objects
		lerr := bpfload.Load(spec, "test", &objs)
		if lerr == nil {
			objs.P.Close()
		}
		// Kernels that let anyone create maps
		// (kernel.unprivileged_bpf_disabled = 0) make the Waiter's.
		w, werr := bpfload.NewWaiter()
		if werr == nil {
			w.Close()
		}
		return []error{lerr, werr}
	})
	for i, err := range errs {
		name := [...]string{"Load", "NewWaiter"}[i]
		if err == nil {
			if i == 0 {
				t.Errorf("%s: an XDP program loaded without capabilities", name)
			}
			continue
		}
		if !errors.Is(err, os.ErrPermission) || !strings.Contains(err.Error(), "not permitted (BPF needs "+bpfload.Privileges+")") {
			t.Errorf("%s without capabilities: %v, want an error matching os.ErrPermission that names the privileges", name, err)
		}
	}
	var ve *ebpf.VerifierError
	if errors.As(errs[0], &ve) {
		t.Errorf("Load without capabilities: a verifier error, want a refusal: %v", errs[0])
	}
}
