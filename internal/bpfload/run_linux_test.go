//go:build linux

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

// frameLen returns an XDP program whose verdict is the length of the
// frame it sees (data_end - data).
func frameLen(t *testing.T) *ebpf.Program {
	t.Helper()
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "GPL", Instructions: asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word), // ctx->data
		asm.LoadMem(asm.R0, asm.R1, 4, asm.Word), // ctx->data_end
		asm.Sub.Reg(asm.R0, asm.R2),
		asm.Return(),
	}})
	if err != nil {
		t.Fatalf("load the frame-length program: %v", err)
	}
	t.Cleanup(func() { prog.Close() })
	return prog
}

// TestRun_Verdict: Run returns the program's verdict on the whole frame,
// for frames from MinFrame to MaxFrame bytes, and an error naming the
// kernel and the frame's length when the test run fails.
func TestRun_Verdict(t *testing.T) {
	kerneltest.Require(t)
	prog := frameLen(t)
	for _, n := range []int{bpfload.MinFrame, 100, bpfload.MaxFrame()} {
		v, err := bpfload.Run(prog, "x", make([]byte, n))
		if err != nil || v != uint32(n) {
			t.Errorf("%d-byte frame: verdict %d (%v), want %d", n, v, err, n)
		}
	}
	closed := frameLen(t)
	closed.Close()
	_, err := bpfload.Run(closed, "x", make([]byte, 60))
	if err == nil || !strings.HasPrefix(err.Error(), "x kernel: test run on a 60-byte frame: ") {
		t.Errorf("Run of a closed program: %v, want an error naming the kernel and the frame", err)
	}
}

// TestBench_Runs: Bench accepts a repeat of 0 (one run, as the kernel
// counts it) and frames up to MaxFrame bytes and returns the kernel's
// time per run, which is never zero (a run takes some nanoseconds); it
// names the kernel and the frame's length when the test run fails.
func TestBench_Runs(t *testing.T) {
	kerneltest.Require(t)
	prog := frameLen(t)
	for _, c := range []struct{ n, repeat int }{{bpfload.MinFrame, 0}, {bpfload.MaxFrame(), 100}} {
		if d, err := bpfload.Bench(prog, "x", make([]byte, c.n), c.repeat); err != nil || d <= 0 {
			t.Errorf("%d-byte frame, repeat %d: %v per run (%v)", c.n, c.repeat, d, err)
		}
	}
	closed := frameLen(t)
	closed.Close()
	_, err := bpfload.Bench(closed, "x", make([]byte, 60), 1)
	if err == nil || !strings.HasPrefix(err.Error(), "x kernel: benchmark on a 60-byte frame: ") {
		t.Errorf("Bench of a closed program: %v, want an error naming the kernel and the frame", err)
	}
}

// TestLoad_VerifierError: a program the verifier rejects (it returns
// without setting R0) fails with an error that names the kernel and
// wraps the *ebpf.VerifierError, as Load's documentation promises, and
// does not speak of privileges.
func TestLoad_VerifierError(t *testing.T) {
	kerneltest.Require(t)
	s := &ebpf.CollectionSpec{Programs: map[string]*ebpf.ProgramSpec{
		"p": {Type: ebpf.XDP, License: "GPL", Instructions: asm.Instructions{asm.Return()}},
	}}
	var objs struct {
		P *ebpf.Program `ebpf:"p"`
	}
	err := bpfload.Load(s, "test", &objs)
	if err == nil {
		objs.P.Close()
		t.Fatal("a program returning an unset R0 loaded")
	}
	var ve *ebpf.VerifierError
	if !strings.HasPrefix(err.Error(), "load test kernel: ") || !errors.As(err, &ve) {
		t.Errorf("error %v, want one naming the kernel and wrapping the verifier's", err)
	}
	// The kernel reports a rejection as EACCES, which matches
	// os.ErrPermission, but privileges are not what it lacked.
	if strings.Contains(err.Error(), bpfload.Privileges) {
		t.Errorf("error %v blames privileges for a verifier rejection", err)
	}
}

// TestLoad_ValueTooLarge: a per-CPU value above the kernel's per-CPU
// allocation unit (32 KiB) is refused with E2BIG, and the error says how
// much the maps asked for as it does on ENOMEM.
func TestLoad_ValueTooLarge(t *testing.T) {
	kerneltest.Require(t)
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	s := &ebpf.CollectionSpec{
		Maps: map[string]*ebpf.MapSpec{
			"big": {Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 64 << 10, MaxEntries: 1},
		},
		Programs: map[string]*ebpf.ProgramSpec{
			"p": {Type: ebpf.XDP, License: "GPL", Instructions: asm.Instructions{
				asm.Mov.Imm(asm.R0, 2), asm.Return(),
			}},
		},
	}
	var objs struct {
		Big *ebpf.Map     `ebpf:"big"`
		P   *ebpf.Program `ebpf:"p"`
	}
	err = bpfload.Load(s, "test", &objs)
	if err == nil {
		objs.Big.Close()
		objs.P.Close()
		t.Fatal("a 64 KiB per-CPU value loaded")
	}
	// The array map refuses per-CPU values above PCPU_MIN_UNIT_SIZE with
	// E2BIG in every kernel these packages load in (5.18 or newer).
	if !errors.Is(err, syscall.E2BIG) {
		t.Fatalf("a 64 KiB per-CPU value refused with %v, want E2BIG", err)
	}
	want := fmt.Sprintf("load test kernel: its maps ask for %d KiB of values (%d possible CPUs)", 64*cpus, cpus)
	if 64*cpus >= 1024 {
		want = fmt.Sprintf("load test kernel: its maps ask for %.1f MiB of values (%d possible CPUs)", float64(64*cpus)/1024, cpus)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q, want it to contain %q", err, want)
	}
}
