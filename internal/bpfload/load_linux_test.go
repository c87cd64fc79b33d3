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

// TestLoad_ProgramTooLarge: a program's E2BIG (more instructions than the
// kernel takes, or the verifier's "BPF program is too large", its
// complexity limit) says nothing about the maps, and the error must not
// blame their size: it wraps the program's load error, a
// [ebpf.VerifierError], as any rejection does. The program is one
// instruction longer than the kernel's limit for a privileged loader
// (BPF_COMPLEXITY_LIMIT_INSNS, a million since Linux 5.2), which every
// kernel refuses before verifying: quick, and the same on every version.
// (A verifier limit is not: 6.1 reports its pending-branch limit as
// EFAULT, and the million-instruction walk took minutes in the emulated
// s390x VM.) The map is 8 MiB, which a size message would name.
func TestLoad_ProgramTooLarge(t *testing.T) {
	kerneltest.Require(t)
	const limit = 1_000_000 // BPF_COMPLEXITY_LIMIT_INSNS
	insns := make(asm.Instructions, 0, limit+1)
	for range limit {
		insns = append(insns, asm.Mov.Imm(asm.R0, 2))
	}
	insns = append(insns, asm.Return())
	s := &ebpf.CollectionSpec{
		Maps: map[string]*ebpf.MapSpec{
			"m": {Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1 << 20},
		},
		Programs: map[string]*ebpf.ProgramSpec{
			"p": {Type: ebpf.XDP, License: "GPL", Instructions: insns},
		},
	}
	var objs struct {
		M *ebpf.Map     `ebpf:"m"`
		P *ebpf.Program `ebpf:"p"`
	}
	err := bpfload.Load(s, "test", &objs)
	if err == nil {
		objs.M.Close()
		objs.P.Close()
		t.Fatalf("a program of %d instructions loaded", len(insns))
	}
	var ve *ebpf.VerifierError
	if !errors.As(err, &ve) || !strings.HasPrefix(err.Error(), "load test kernel: ") {
		t.Fatalf("error %v, want one naming the kernel and wrapping the verifier's", err)
	}
	if strings.Contains(err.Error(), "its maps ask for") {
		t.Errorf("error %q blames the maps' size for the verifier's E2BIG", err)
	}
}
