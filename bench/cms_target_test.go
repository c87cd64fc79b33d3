package bench

import (
	"testing"

	"github.com/dataplane-go/dataplane/cms"
	"github.com/dataplane-go/dataplane/flow"
)

// Tests of the accuracy targets on the amplified captures (the
// stream of BenchmarkCMS: at least 1e7 packets and 1e6 flows), which the
// benchmarks only report as metrics. They skip without
// DATAPLANE_TRAFFIC_DIR, like the benchmarks; each takes a few seconds.

// TestCMS_ConservativeErrorTarget: conservative update's mean absolute
// error over the top-1000 flows is at most half the standard sketch's at
// equal memory (measured: a ratio of about 0.22 at both budgets).
func TestCMS_ConservativeErrorTarget(t *testing.T) {
	d := cmsData(t)
	for _, eps := range []float64{1e-4, 1e-5} {
		std, cons := cmsAccuracy(d, eps, 0), cmsAccuracy(d, eps, 1)
		t.Logf("eps %g: top-1000 mean error standard %.3f, conservative %.3f, ratio %.3f", eps, std.topMean, cons.topMean, cons.topMean/std.topMean)
		if std.topMean == 0 {
			t.Fatalf("eps %g: the standard sketch has no error on the top flows: the comparison says nothing", eps)
		}
		if cons.topMean > std.topMean/2 {
			t.Errorf("eps %g: conservative top-1000 mean error %.3f above half the standard's %.3f", eps, cons.topMean, std.topMean)
		}
	}
}

// TestCMS_TopKRecallTarget: after the whole stream, the top-k tracker at
// k = 1000 (conservative update, the sketch memory of BenchmarkCMSTopK at
// eps 1e-5, 10 MB) holds at least 99% of the true top 1000 (measured:
// 1.0). With the 1 MB sketch of eps 1e-4 it does not (measured: 0.888):
// the top 1000 reach down to flows of 200 packets, among many copies of
// equal-sized flows, and a 1 MB sketch overestimates flows just below that
// enough to let them in. The issue names no memory for this target; the
// benchmark reports both.
func TestCMS_TopKRecallTarget(t *testing.T) {
	d := cmsData(t)
	index := make(map[flow.Key]uint32, len(d.keys))
	for i, k := range d.keys {
		index[k] = uint32(i)
	}
	bp := cms.ParamsFor(1e-5, cmsDelta)
	tk, err := cms.NewTopK(cms.Params{Width: 2 * bp.Width, Depth: bp.Depth, Seed: 1, Conservative: true}, cmsTopK)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range d.stream {
		tk.Add(d.keys[f], 1)
	}
	var rep []flow.Key
	for _, e := range tk.Top() {
		rep = append(rep, e.Key)
	}
	r := cmsRecall(d, rep, index)
	t.Logf("top-%d recall %.4f", cmsTopK, r)
	if len(rep) != cmsTopK || r < 0.99 {
		t.Errorf("top-%d tracker: %d flows, recall %.4f, want %d and at least 0.99", cmsTopK, len(rep), r, cmsTopK)
	}
}
