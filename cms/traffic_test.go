package cms

import (
	"slices"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/traffic"
)

// TestSketch_ErrorBoundCaptures checks the guarantees on the shared
// captures (every packet of the main captures, skipped without
// DATAPLANE_TRAFFIC_DIR): no estimate below the true count, at most a delta
// share of flows beyond eps*N, conservative never above standard, and the
// top-k tracker's recall.
func TestSketch_ErrorBoundCaptures(t *testing.T) {
	keys := traffic.Keys(t)
	exact := map[flow.Key]uint64{}
	for _, k := range keys {
		exact[k]++
	}
	for _, eps := range []float64{1e-3, 1e-4} {
		p := ParamsFor(eps, 0.01).WithSeed(3)
		std, cons := MustNew(p), MustNew(p.WithConservative(true))
		for i := range keys {
			std.Add(keys[i].Bytes(), 1)
			cons.Add(keys[i].Bytes(), 1)
		}
		bound := p.Epsilon() * float64(len(keys))
		over := 0
		for k, c := range exact {
			es, ec := std.Estimate(k.Bytes()), cons.Estimate(k.Bytes())
			if uint64(ec) < c || ec > es {
				t.Fatalf("eps %g: %v count %d, standard %d, conservative %d", eps, k, c, es, ec)
			}
			if float64(uint64(es)-c) > bound {
				over++
			}
		}
		if share := float64(over) / float64(len(exact)); share > p.Delta() {
			t.Errorf("eps %g: %.4f of %d flows beyond eps*N = %.1f, want at most %.4f", eps, share, len(exact), bound, p.Delta())
		}
		t.Logf("eps %g: %d packets, %d flows, %d beyond eps*N = %.1f", eps, len(keys), len(exact), over, bound)
	}

	const k = 100
	tk, _ := NewTopK(ParamsFor(1e-4, 0.01).WithSeed(3).WithConservative(true), k)
	for _, key := range keys {
		tk.Add(key, 1)
	}
	counts := make([]uint64, 0, len(exact))
	for _, c := range exact {
		counts = append(counts, c)
	}
	slices.Sort(counts)
	kth := counts[len(counts)-k]
	hit := 0
	for _, e := range tk.Top() {
		if exact[e.Key] >= kth {
			hit++
		}
	}
	if r := float64(hit) / k; r < 0.99 {
		t.Fatalf("top-%d recall %.3f on the captures, want at least 0.99", k, r)
	}
}
