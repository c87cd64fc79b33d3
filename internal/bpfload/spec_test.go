//go:build linux

package bpfload_test

import (
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/flow/xdp"
	"github.com/dataplane-go/dataplane/internal/bpfload"
)

// TestSetVars_RealSpec sets a real kernel's constants: the right types
// go in, a wrong type is an error naming the variable.
func TestSetVars_RealSpec(t *testing.T) {
	spec, err := xdp.Spec()
	if err != nil {
		t.Fatal(err)
	}
	if err := bpfload.SetVars(spec, "flow", map[string]any{"flow_seed": uint64(7), "flow_emit": uint32(0)}); err != nil {
		t.Fatalf("valid constants: %v", err)
	}
	var seed uint64
	if err := spec.Variables["flow_seed"].Get(&seed); err != nil || seed != 7 {
		t.Fatalf("flow_seed %d after SetVars (%v), want 7", seed, err)
	}
	// Another kernel's spec (here the flow kernel's given as bloom's), as
	// a caller of bloom's Configure might pass: the error says which spec
	// is wanted, not only which variable is missing.
	err = bpfload.SetVars(spec, "bloom", map[string]any{"bloom_cfg_k": uint32(1)})
	if err == nil || !strings.Contains(err.Error(), `no variable "bloom_cfg_k"`) || !strings.Contains(err.Error(), "must be the bloom kernel's (from its Spec)") {
		t.Fatalf("foreign spec: error %v, want one naming the variable and the spec wanted", err)
	}
	err = bpfload.SetVars(spec, "flow", map[string]any{"flow_seed": uint8(1)})
	if err == nil || !strings.Contains(err.Error(), "flow kernel: set flow_seed") {
		t.Fatalf("wrong type: error %v, want one naming flow_seed", err)
	}
}
