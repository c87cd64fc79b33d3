package bloom

import (
	"testing"

	"github.com/dataplane-go/dataplane/internal/traffic"
)

// TestAccuracy_Traffic measures the false-positive rate on the flows of the
// shared captures (amplified with disjoint addresses): half of them are
// added, the other half queried. The bounds are those of
// TestAccuracy_Random: [0.8, 1.2] times the prediction, 6 standard
// deviations of the binomial noise at 1% with 1e5 queries. Skips without
// DATAPLANE_TRAFFIC_DIR.
func TestAccuracy_Traffic(t *testing.T) {
	n := 100_000
	if testing.Short() {
		n = 20_000
	}
	keys := traffic.DistinctKeys(t, 2*n)
	var members, absent [][]byte
	seen := map[string]bool{}
	for i := range keys {
		b := keys[i].Bytes()
		if seen[string(b)] {
			continue
		}
		seen[string(b)] = true
		if len(seen)%2 == 1 {
			members = append(members, b)
		} else {
			absent = append(absent, b)
		}
	}
	members, absent = members[:n], absent[:n]
	p, bp := ParamsFor(uint64(n), 0.01), BlockedParamsFor(uint64(n), 0.01)
	p.Seed, bp.Seed = 7, 7
	f, b, c := MustNew(p), MustNewBlocked(bp), MustNewCounting(p, 4)
	for _, k := range members {
		f.Add(k)
		b.Add(k)
		c.Add(k)
	}
	for _, k := range members {
		if !f.Contains(k) || !b.Contains(k) || !c.Contains(k) {
			t.Fatal("false negative on a captured flow")
		}
	}
	for _, tc := range []struct {
		name      string
		contains  func([]byte) bool
		predicted float64
	}{
		{"classic", f.Contains, FalsePositiveRate(p.Bits, p.Hashes, uint64(n))},
		{"blocked", b.Contains, BlockedFalsePositiveRate(bp.Bits, bp.Hashes, uint64(n))},
		{"counting", c.Contains, FalsePositiveRate(p.Bits, p.Hashes, uint64(n))},
	} {
		got := float64(falsePositives(tc.contains, absent)) / float64(n)
		t.Logf("%s: measured %.5f, predicted %.5f on %d captured flows", tc.name, got, tc.predicted, n)
		if got < 0.8*tc.predicted || got > 1.2*tc.predicted {
			t.Errorf("%s: measured %.5f, predicted %.5f", tc.name, got, tc.predicted)
		}
	}
	if est := f.EstimatedCount(); est < 0.97*float64(n) || est > 1.03*float64(n) {
		t.Errorf("EstimatedCount = %.0f for %d captured flows", est, n)
	}
}
