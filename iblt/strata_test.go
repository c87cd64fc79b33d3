package iblt

import (
	"testing"
)

// TestEstimator_StrataLimit: 64 strata, the documented maximum, make an
// estimator that encodes and decodes; 65 are refused by NewEstimator and
// by UnmarshalBinary (whose count byte could say up to 255).
func TestEstimator_StrataLimit(t *testing.T) {
	p := EstimatorParams{Strata: 64, Cells: 4, KeyLen: 1, Seed: 6}
	e, err := NewEstimator(p)
	if err != nil {
		t.Fatalf("NewEstimator(%+v): %v", p, err)
	}
	for i := range 200 {
		if err := e.Insert([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	data, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var u Estimator
	if err := u.UnmarshalBinary(data); err != nil || u.p != p {
		t.Fatalf("64 strata: UnmarshalBinary gave %+v, %v; want %+v", u.p, err, p)
	}
	if err := u.Subtract(e); err != nil {
		t.Fatal(err)
	}
	if n, err := u.Estimate(); n != 0 || err != nil {
		t.Errorf("64 strata minus themselves: estimate %d, %v; want 0", n, err)
	}

	p.Strata = 65
	if _, err := NewEstimator(p); err == nil {
		t.Error("NewEstimator accepted 65 strata")
	}
	// 64 strata and one more copy of the last: a well-formed 65th stratum.
	stratum := (len(data) - 8) / 64
	more := append(append([]byte(nil), data...), data[len(data)-stratum:]...)
	more[5] = 65
	if err := u.UnmarshalBinary(more); err == nil {
		t.Error("UnmarshalBinary accepted 65 strata")
	}
}
