package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// checkBloomSection checks the bloom section of a run's output over the
// default trace (10000 flows): the distinct-flow estimate, each filter's
// measured false-positive rate against its prediction, and, when the
// kernel ran, its agreement with Go. The trace and seed are fixed, so the
// bounds (measured rate within half to one and a half times the predicted
// one, over 5000 absent flows: about 7 standard deviations) cannot flake.
func checkBloomSection(t *testing.T, out string, kernel bool) {
	t.Helper()
	i := strings.Index(out, "== bloom ==")
	if i < 0 {
		t.Errorf("no bloom section:\n%s", out)
		return
	}
	sec := out[i:]
	if j := strings.Index(sec[1:], "\n== "); j >= 0 {
		sec = sec[:j+1]
	}
	if got := row(t, sec, "distinct flows"); got != "10000" {
		t.Errorf("bloom: distinct flows %s, want 10000", got)
	}
	est, err := strconv.ParseFloat(row(t, sec, "estimated from a filter of every packet"), 64)
	if err != nil || est < 9800 || est > 10200 {
		t.Errorf("bloom: estimate %v (%v), want 10000 within 2%%", est, err)
	}
	rows := regexp.MustCompile(`(?m)^(classic|blocked|counting \(4-bit\))\s+[0-9.]+\s+(\d+)\s+([0-9.e-]+)\s+([0-9.e-]+)\s`).FindAllStringSubmatch(sec, -1)
	if len(rows) != 3 {
		t.Fatalf("bloom: %d filter rows, want classic, blocked and counting:\n%s", len(rows), sec)
	}
	for _, r := range rows {
		pred, err1 := strconv.ParseFloat(r[3], 64)
		meas, err2 := strconv.ParseFloat(r[4], 64)
		if err1 != nil || err2 != nil || pred < 0.005 || pred > 0.01*1.05 || meas < 0.5*pred || meas > 1.5*pred {
			t.Errorf("bloom: %s: predicted fpr %s, measured %s; want a prediction near 0.01 and a measurement within [0.5, 1.5] times it", r[1], r[3], r[4])
		}
	}
	want := []string{"kernel: not run (-kernel off)"}
	if kernel {
		want = []string{"verdict mismatches with Go: 0\n", "identical to Go: true\n", "kernel: agrees with Go on every frame"}
	}
	for _, w := range want {
		if !strings.Contains(sec, w) {
			t.Errorf("bloom: no %q in\n%s", w, sec)
		}
	}
}
