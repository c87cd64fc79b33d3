package xdp

import (
	"testing"

	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// The stub built off Linux (loader_other.go) exports what the Linux loader
// exports, with the same signatures, so that code written against the
// documented API compiles on every OS. LB.Attach is the exception: its
// flags are a link.XDPAttachFlags, which cilium/ebpf defines on Linux only.
func TestAPI_StubMatchesLinux(t *testing.T) {
	kerneltest.StubMatches(t, "loader.go", "loader_other.go", "(*LB).Attach")
}
