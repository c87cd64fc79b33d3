package bpfload_test

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dataplane-go/dataplane/internal/bpfload"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// TestLoad_MapTooLarge: a map the kernel cannot allocate (1 TiB of
// values) fails with ENOMEM (or E2BIG), and the error says how much the maps asked
// for beside the kernel's own words.
func TestLoad_MapTooLarge(t *testing.T) {
	kerneltest.Require(t)
	s := &ebpf.CollectionSpec{
		Maps: map[string]*ebpf.MapSpec{
			"huge": {Type: ebpf.Array, KeySize: 4, ValueSize: 4096, MaxEntries: 1 << 28},
		},
		Programs: map[string]*ebpf.ProgramSpec{
			"p": {Type: ebpf.XDP, License: "GPL", Instructions: asm.Instructions{
				asm.Mov.Imm(asm.R0, 2), asm.Return(),
			}},
		},
	}
	var objs struct {
		Huge *ebpf.Map     `ebpf:"huge"`
		P    *ebpf.Program `ebpf:"p"`
	}
	err := bpfload.Load(s, "test", &objs)
	if err == nil {
		objs.Huge.Close()
		objs.P.Close()
		t.Fatal("a 1 TiB array map loaded")
	}
	if !errors.Is(err, syscall.ENOMEM) && !errors.Is(err, syscall.E2BIG) {
		t.Fatalf("a 1 TiB array refused with %v, want ENOMEM or E2BIG", err)
	}
	if want := "load test kernel: its maps ask for 1024.0 GiB of values"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q, want it to contain %q", err, want)
	}
}
