//go:build linux

package xdp

import (
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/dataplane-go/dataplane/cms"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// TestKernel_StaticFuncs: on a kernel without BTF of its own, Load makes
// the shared parser, dp_parse, a static function instead of a global one
// (bpfload.ForKernel). Forced to here, the verifier must accept the kernel
// that way, and the kernel must pass its fixtures as it does with dp_parse
// global.
func TestKernel_StaticFuncs(t *testing.T) {
	kerneltest.StaticFuncs(t)
	kerneltest.CheckLinkage(t, load(t, Options{Params: cms.LabParams(64, 1), Mode: ModeDetect}).Program(), "dp_parse", btf.StaticFunc)
	t.Run("SketchFixtures", TestKernel_SketchFixtures)
	t.Run("DetectorFixture", TestKernel_DetectorFixture)
}
