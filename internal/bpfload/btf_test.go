//go:build linux

package bpfload_test

import (
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"

	"github.com/dataplane-go/dataplane/flow/xdp"
	"github.com/dataplane-go/dataplane/internal/bpfload"
)

// linkages returns the BTF linkage of every function in program prog of
// spec, by name.
func linkages(t *testing.T, spec *ebpf.CollectionSpec, prog string) map[string]btf.FuncLinkage {
	t.Helper()
	ps := spec.Programs[prog]
	if ps == nil {
		t.Fatalf("no program %s", prog)
	}
	out := map[string]btf.FuncLinkage{}
	for i := range ps.Instructions {
		if fn := btf.FuncMetadata(&ps.Instructions[i]); fn != nil {
			out[fn.Name] = fn.Linkage
		}
	}
	return out
}

// TestStaticFuncs: on the flow kernel's spec, the shared parser becomes
// static and the program's entry stays as it was; the spec given is left
// unchanged, so a caller's spec loads the same afterwards.
func TestStaticFuncs(t *testing.T) {
	spec, err := xdp.Spec()
	if err != nil {
		t.Fatal(err)
	}
	before := linkages(t, spec, "xdp_flow")
	if before["dp_parse"] != btf.GlobalFunc {
		t.Fatalf("the object's functions %v: want dp_parse global (the premise of StaticFuncs)", before)
	}
	after := linkages(t, bpfload.StaticFuncs(spec), "xdp_flow")
	if after["dp_parse"] != btf.StaticFunc || after["xdp_flow"] != before["xdp_flow"] || len(after) != len(before) {
		t.Errorf("after StaticFuncs %v, before %v: want dp_parse static and xdp_flow as it was", after, before)
	}
	if again := linkages(t, spec, "xdp_flow"); again["dp_parse"] != btf.GlobalFunc {
		t.Errorf("StaticFuncs changed its argument: %v", again)
	}
	if bpfload.ForKernel(nil) != nil {
		t.Error("ForKernel(nil) is not nil")
	}
	restore := bpfload.ForceStaticFuncs()
	forced := linkages(t, bpfload.ForKernel(spec), "xdp_flow")
	restore()
	if forced["dp_parse"] != btf.StaticFunc {
		t.Errorf("ForKernel after ForceStaticFuncs: %v, want dp_parse static", forced)
	}
	want := btf.StaticFunc
	if bpfload.KernelBTF() {
		want = btf.GlobalFunc
	}
	if got := linkages(t, bpfload.ForKernel(spec), "xdp_flow")["dp_parse"]; got != want {
		t.Errorf("ForKernel after the restore: dp_parse %v, want %v (kernel BTF: %v)", got, want, bpfload.KernelBTF())
	}
}
