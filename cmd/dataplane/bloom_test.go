package main

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/bloom"
	"github.com/dataplane-go/dataplane/internal/pkt"
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

// bloomRun is a Run of n UDP flows of two packets each.
func bloomRun(n int) (*Run, *bytes.Buffer) {
	var frames [][]byte
	for range 2 {
		for i := range n {
			frames = append(frames, pkt.UDP4(fmt.Sprintf("10.2.%d.%d:4000", i>>8, i&255), "10.3.0.1:53", nil))
		}
	}
	return frameRun(7, frames...)
}

// TestBloomSection_Figures: on 2000 flows of two packets, the distinct-flow
// estimate is within 2% of 2000; the members are every other flow (1000);
// the classic filter's measured false-positive rate is the share of the
// other flows it contains; a counting filter takes 4 bits per classic bit.
func TestBloomSection_Figures(t *testing.T) {
	const n = 2000
	r, out := bloomRun(n)
	if err := bloomSection(r); err != nil {
		t.Fatal(err)
	}
	sec := out.String()
	est, err := strconv.ParseFloat(row(t, sec, "estimated from a filter of every packet"), 64)
	if err != nil || est < 0.98*n || est > 1.02*n {
		t.Errorf("estimate %v (%v), want %d within 2%%", est, err, n)
	}
	if got := row(t, sec, "filter members (every other flow)"); got != strconv.Itoa(n/2) {
		t.Errorf("filter members %s, want %d", got, n/2)
	}
	// The reference: a classic filter of the even flows, tested on the odd.
	f := bloom.MustNew(bloom.ParamsFor(n/2, bloomFPR).WithSeed(r.Seed))
	flows := r.Flows()
	for i := 0; i < n; i += 2 {
		f.Add(flows[i].Bytes())
	}
	fp := 0
	for i := 1; i < n; i += 2 {
		if f.Contains(flows[i].Bytes()) {
			fp++
		}
	}
	if fp == 0 {
		t.Fatal("no false positive among the absent flows: the test cannot tell the rate's base")
	}
	cells := func(name string) []string {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s+(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s`).FindStringSubmatch(sec)
		if m == nil {
			t.Fatalf("no %s row in\n%s", name, sec)
		}
		return m[1:]
	}
	classic, counting := cells("classic"), cells("counting (4-bit)")
	if want := formatFloat(float64(fp) / (n / 2)); classic[3] != want {
		t.Errorf("classic measured fpr %s, want %s (%d of %d absent flows)", classic[3], want, fp, n/2)
	}
	cb, err1 := strconv.ParseFloat(classic[0], 64)
	kb, err2 := strconv.ParseFloat(counting[0], 64)
	if err1 != nil || err2 != nil || math.Abs(kb/cb-4) > 0.01 {
		t.Errorf("bits/flow: classic %s, counting (4-bit) %s; want four times as many", classic[0], counting[0])
	}
}

// TestBloomSection_OneFlow: with a single flow there is no absent flow to
// measure false positives on; the section says so rather than print NaN.
func TestBloomSection_OneFlow(t *testing.T) {
	r, out := bloomRun(1)
	if err := bloomSection(r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "fewer than two flows") || strings.Contains(out.String(), "NaN") {
		t.Errorf("bloom section of one flow:\n%s", out)
	}
}
