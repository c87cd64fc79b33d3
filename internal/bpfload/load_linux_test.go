package bpfload_test

import (
	"errors"
	"fmt"
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

// TestLoad_ProgramTooLarge: the verifier's E2BIG ("The sequence of 8193
// jumps is too complex", one of its complexity limits) says nothing about
// the maps, and the error must not blame their size: it wraps the
// verifier's error, as any rejection does. The program compares a value
// the verifier cannot know with 9,000 constants in a row, each branch
// left for later, past the 8,192 pending branches it keeps: a rejection
// after some 18,000 instructions, quick even on an emulated machine's
// interpreter (the million-instruction limit took minutes there). The
// map is 8 MiB, which a size message would name.
func TestLoad_ProgramTooLarge(t *testing.T) {
	kerneltest.Require(t)
	insns := asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 12, asm.Word), // xdp_md.ingress_ifindex: unknown
		asm.Mov.Imm(asm.R0, 2),
	}
	for i := range 9000 {
		insns = append(insns,
			asm.JEq.Imm(asm.R2, int32(i), fmt.Sprintf("l%d", i)),
			asm.Mov.Imm(asm.R0, 2),
			asm.Mov.Imm(asm.R0, 2).WithSymbol(fmt.Sprintf("l%d", i)))
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
		t.Fatal("a program past the verifier's complexity limit loaded")
	}
	var ve *ebpf.VerifierError
	if !errors.As(err, &ve) || !strings.HasPrefix(err.Error(), "load test kernel: ") {
		t.Fatalf("error %v, want one naming the kernel and wrapping the verifier's", err)
	}
	if strings.Contains(err.Error(), "its maps ask for") {
		t.Errorf("error %q blames the maps' size for the verifier's E2BIG", err)
	}
}
