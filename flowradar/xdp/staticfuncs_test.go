//go:build linux

package xdp

import (
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/dataplane-go/dataplane/flowradar"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// TestKernel_StaticFuncs: on a kernel without BTF of its own, Load makes
// the shared parser, dp_parse, a static function instead of a global one
// (bpfload.ForKernel). Forced to here, the verifier must accept the kernel
// that way, and the kernel must pass its fixtures as it does with dp_parse
// global.
func TestKernel_StaticFuncs(t *testing.T) {
	kerneltest.StaticFuncs(t)
	kerneltest.CheckLinkage(t, loadKernel(t, flowradar.Params{Cells: 64, Hashes: 4, FilterBits: 1024, FilterHashes: 7, Seed: 0xf10}, false).Program(), "dp_parse", btf.StaticFunc)
	t.Run("Fixtures", TestKernel_Fixtures)
}
