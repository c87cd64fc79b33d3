//go:build linux

package xdp

import (
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/dataplane-go/dataplane/internal/bpfload"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// TestKernel_ParserLinkage: Load leaves the shared parser, dp_parse, a
// global function, checked once on its own, where the kernel has BTF of its
// own, and makes it static where it has not (bpfload.ForKernel).
func TestKernel_ParserLinkage(t *testing.T) {
	want := btf.StaticFunc
	if bpfload.KernelBTF() {
		want = btf.GlobalFunc
	}
	kerneltest.CheckLinkage(t, loadKernel(t).Program(), "dp_parse", want)
}

// TestKernel_StaticFuncs: on a kernel without BTF of its own, Load makes
// the shared parser, dp_parse, a static function instead of a global one
// (bpfload.ForKernel). Forced to here, the verifier must accept the kernel
// that way, and the kernel must pass its fixtures as it does with dp_parse
// global.
// Here that is also the mutation run and the length sweep, which reach
// every path of the parser.
func TestKernel_StaticFuncs(t *testing.T) {
	kerneltest.StaticFuncs(t)
	kerneltest.CheckLinkage(t, loadKernel(t).Program(), "dp_parse", btf.StaticFunc)
	t.Run("Fixtures", TestKernel_Fixtures)
	t.Run("Mutations", TestKernel_Mutations)
	t.Run("LengthSweep", TestKernel_LengthSweep)
}
