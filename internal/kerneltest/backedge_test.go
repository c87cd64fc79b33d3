package kerneltest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/cilium/ebpf"
)

// TestKernels_NoFallthroughBackEdge: no kernel object holds a loop that
// Linux 6.1's verifier refuses before it looks at a single value. Its
// control-flow check (check_cfg) walks the program depth first, taking
// an instruction's fall-through edge before its jump, and accepts a
// back-edge (an edge to an instruction still on the walk's stack) only
// when the edge is a jump's; an edge into a loop head by falling through,
// which clang emits for a loop it lays out head-last, fails every load
// with "back-edge from insn N to N+1". Linux 6.7 accepts any back-edge
// (commit 10e14e9652bf), so only .ci/kernel-vm would otherwise catch one.
// The check runs on the objects alone: it needs no BPF privileges.
func TestKernels_NoFallthroughBackEdge(t *testing.T) {
	var objs []string
	for _, pattern := range []string{"../../*/xdp/*_bpfel.o", "../../examples/*/*_bpfel.o", "../bpf/*/*_bpfel.o"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, m...)
	}
	if len(objs) < 7 {
		t.Fatalf("found %d kernel objects (%v), want the six kernels, the selftest and l4lb's", len(objs), objs)
	}
	for _, obj := range objs {
		spec, err := ebpf.LoadCollectionSpec(obj)
		if err != nil {
			t.Fatal(err)
		}
		for name, prog := range spec.Programs {
			var buf bytes.Buffer
			if err := prog.Instructions.Marshal(&buf, binary.LittleEndian); err != nil {
				t.Fatalf("%s: %s: %v", obj, name, err)
			}
			if err := fallthroughBackEdge(buf.Bytes()); err != nil {
				t.Errorf("%s: program %s: %v (kernels before 6.7, or 6.6.3 on the 6.6 branch, refuse it)", obj, name, err)
			}
		}
	}
}

// fallthroughBackEdge runs check_cfg's walk as Linux 6.1 does over the raw
// little-endian instructions and returns its error, if any.
func fallthroughBackEdge(raw []byte) error {
	const (
		discovered = 1
		explored   = 2
	)
	n := len(raw) / 8
	state := make([]int, n)
	type edge struct {
		to     int
		loopOK bool
	}
	edges := func(t int) []edge {
		op := raw[t*8]
		class := op & 7
		off := int(int16(binary.LittleEndian.Uint16(raw[t*8+2:])))
		imm := int(int32(binary.LittleEndian.Uint32(raw[t*8+4:])))
		if class != 5 && class != 6 { // not BPF_JMP, BPF_JMP32
			if op == 0x18 { // lddw takes two slots
				return []edge{{t + 2, false}}
			}
			return []edge{{t + 1, false}}
		}
		switch op & 0xf0 {
		case 0x90: // exit
			return nil
		case 0x80: // call: a bpf-to-bpf call (src 1) also enters the callee
			e := []edge{{t + 1, false}}
			if raw[t*8+1]>>4 == 1 {
				e = append(e, edge{t + imm + 1, false})
			}
			return e
		case 0x00: // ja (gotol, in JMP32, jumps by imm)
			if class == 6 {
				off = imm
			}
			return []edge{{t + off + 1, true}}
		}
		return []edge{{t + 1, true}, {t + off + 1, true}}
	}
	var walk func(t int) error
	walk = func(t int) error {
		state[t] = discovered
		for _, e := range edges(t) {
			if e.to < 0 || e.to >= n {
				return fmt.Errorf("jump out of range from insn %d to %d", t, e.to)
			}
			switch state[e.to] {
			case 0:
				if err := walk(e.to); err != nil {
					return err
				}
			case discovered:
				if !e.loopOK {
					return fmt.Errorf("back-edge from insn %d to %d", t, e.to)
				}
			}
		}
		state[t] = explored
		return nil
	}
	return walk(0)
}
