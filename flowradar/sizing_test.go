package flowradar

import (
	"fmt"
	"testing"
)

// TestParamsFor_SmallSetsDecode: a table sized by ParamsFor for n flows
// decodes all of them by single decode in at least 98% of random flow
// sets (the sizing aims at 99%), at every n, not only where the 2-core
// threshold's 1.295 cells per flow is a good model. Small sets need more
// cells per flow: two flows that share all four cells can never be
// peeled, and with one cell per sub-table every pair does.
func TestParamsFor_SmallSetsDecode(t *testing.T) {
	trials := 300
	if testing.Short() {
		trials = 100
	}
	for _, n := range []int{1, 2, 5, 20, 50, 309, 1000} {
		t.Run(fmt.Sprintf("flows=%d", n), func(t *testing.T) {
			failed := 0
			for s := range trials {
				p := ParamsFor(n, uint64(s)+1)
				tab := MustNew(p).Active()
				keys := randomKeys(n, uint64(s)*7919+uint64(n))
				for i := range keys {
					tab.Add(&keys[i], 100)
				}
				d, err := tab.Decode()
				if err != nil || len(d.Flows) != n {
					failed++
				}
			}
			t.Logf("%d flows in %d cells: %d of %d sets not fully decoded", n, ParamsFor(n, 1).Cells, failed, trials)
			if failed > trials/50 {
				t.Errorf("%d flows: %d of %d sets not fully decoded, want at most 2%%", n, failed, trials)
			}
		})
	}
}
