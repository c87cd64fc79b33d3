//go:build linux

package xdp

import (
	"fmt"
	"testing"

	"github.com/dataplane-go/dataplane/iblt"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// TestKernel_EveryK digests the fixtures with every number of hashes the
// options accept, 1 to iblt.MaxHashes, in both table modes: the kernel's
// table must equal the Go digest cell for cell. The other kernel tests use
// k = 1, 3 and 4 only; this is the test that the kernel's loop bound
// (IBLT_MAX_K) covers every k that Load accepts: a bound below
// iblt.MaxHashes loads, and silently leaves the last sub-tables empty.
func TestKernel_EveryK(t *testing.T) {
	var frames [][]byte
	for _, fx := range fixtures(t) {
		frames = append(frames, fx.frame)
	}
	for k := 1; k <= iblt.MaxHashes; k++ {
		for _, shared := range []bool{false, true} {
			name := fmt.Sprintf("k=%d/shared=%v", k, shared)
			o := Options{Cells: 16 * k, Hashes: k, Seed: 0xe7e7 + uint64(k), Shared: shared}
			kern := loadKernel(t, o)
			for _, f := range frames {
				if v, _ := kerneltest.Run(t, kern.Program(), f); v != xdpPass {
					t.Fatalf("%s: verdict %d, want XDP_PASS", name, v)
				}
			}
			got, err := kern.Table()
			if err != nil {
				t.Fatal(err)
			}
			want, err := Digest(o, frames)
			if err != nil {
				t.Fatal(err)
			}
			if want.IsEmpty() {
				t.Fatalf("%s: the Go digest of %d fixtures is empty", name, len(frames))
			}
			if !got.Equal(want) {
				t.Errorf("%s: kernel digest of %d fixtures differs from the Go digest", name, len(frames))
			}
			kern.Close()
		}
	}
}
