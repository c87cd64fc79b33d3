//go:build linux

package bpfload

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

func spec(t *testing.T) *ebpf.CollectionSpec {
	t.Helper()
	return &ebpf.CollectionSpec{Variables: map[string]*ebpf.VariableSpec{}}
}

func TestSetVars_Unknown(t *testing.T) {
	err := SetVars(spec(t), "test", map[string]any{"b_missing": uint32(1), "a_missing": uint64(2)})
	if err == nil || !strings.Contains(err.Error(), `test kernel: no variable "a_missing"`) {
		t.Fatalf("error %v, want the first missing name, sorted", err)
	}
	if err := SetVars(spec(t), "test", nil); err != nil {
		t.Fatalf("no variables: %v", err)
	}
}

func TestLoad_Rejected(t *testing.T) {
	// A collection whose only program the kernel rejects (or cannot load
	// at all without BPF): the error names the kernel either way.
	s := &ebpf.CollectionSpec{Programs: map[string]*ebpf.ProgramSpec{
		"p": {Type: ebpf.XDP, License: "GPL"}, // no instructions
	}, Types: &btf.Spec{}}
	var objs struct {
		P *ebpf.Program `ebpf:"p"`
	}
	err := Load(s, "test", &objs)
	if err == nil || !strings.HasPrefix(err.Error(), "load test kernel: ") {
		t.Fatalf("error %v, want one naming the kernel", err)
	}
}

// TestRunBench_Arguments: frames shorter than an Ethernet header or
// longer than MaxFrame and a negative repeat are refused by name before
// the program is touched.
func TestRunBench_Arguments(t *testing.T) {
	// The headroom (256) and struct skb_shared_info (320) rounded up to
	// the kernel's cache line: 64 bytes, 128 on 64-bit POWER and MIPS
	// (the largest MIPS kernels use), 256 on s390x.
	less := 576
	switch runtime.GOARCH {
	case "ppc64", "ppc64le", "mips", "mipsle", "mips64", "mips64le":
		less = 640
	case "s390x":
		less = 768
	}
	if n := MaxFrame(); n != os.Getpagesize()-less {
		t.Errorf("MaxFrame %d, want a page less %d bytes", n, less)
	}
	for _, n := range []int{MaxFrame() + 1, 80000} {
		want := fmt.Sprintf("x kernel: test run frames must be at most %d bytes (what a test run gives XDP in one buffer), got %d", MaxFrame(), n)
		if _, err := Run(nil, "x", make([]byte, n)); err == nil || err.Error() != want {
			t.Errorf("Run of %d bytes: %v, want %q", n, err, want)
		}
		if _, err := Bench(nil, "x", make([]byte, n), 1); err == nil || err.Error() != want {
			t.Errorf("Bench of %d bytes: %v, want %q", n, err, want)
		}
	}
	for _, n := range []int{0, 13} {
		want := fmt.Sprintf("x kernel: test run frames must be at least 14 bytes (an Ethernet header), got %d", n)
		if _, err := Run(nil, "x", make([]byte, n)); err == nil || err.Error() != want {
			t.Errorf("Run of %d bytes: %v, want %q", n, err, want)
		}
		if _, err := Bench(nil, "x", make([]byte, n), 1); err == nil || err.Error() != want {
			t.Errorf("Bench of %d bytes: %v, want %q", n, err, want)
		}
	}
	want := "x kernel: Bench repeat must not be negative, got -1"
	if _, err := Bench(nil, "x", make([]byte, MinFrame), -1); err == nil || err.Error() != want {
		t.Errorf("Bench repeat -1: %v, want %q", err, want)
	}
	// cilium/ebpf calls a repeat above BPF_PROG_TEST_RUN's 32-bit count
	// "too high", without the bound.
	if strconv.IntSize == 64 {
		over := uint64(math.MaxUint32) // a variable: the constant 2^32 does not fit a 32-bit int
		big := int(over + 1)
		want = fmt.Sprintf("x kernel: Bench repeat must be at most %d, got %d", uint32(math.MaxUint32), big)
		if _, err := Bench(nil, "x", make([]byte, MinFrame), big); err == nil || err.Error() != want {
			t.Errorf("Bench repeat 2^32: %v, want %q", err, want)
		}
	}
}
