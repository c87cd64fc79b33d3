package main

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/bloom"
	bloomxdp "github.com/dataplane-go/dataplane/bloom/xdp"
	"github.com/dataplane-go/dataplane/flow"
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

// fakeVerdicts is a fake kernel or model for the verdict comparisons: its
// Run returns the next of its verdicts, or err, and keeps the frames.
type fakeVerdicts struct {
	verdicts []uint32
	err      error
	runs     int
	seen     [][]byte
}

func (f *fakeVerdicts) Run(frame []byte) (uint32, error) {
	if f.err != nil {
		return 0, f.err
	}
	v := f.verdicts[f.runs]
	f.runs++
	f.seen = append(f.seen, frame)
	return v, nil
}

// sameFrames reports whether a and b hold the same frames in order.
func sameFrames(a, b [][]byte) bool {
	return slices.EqualFunc(a, b, bytes.Equal)
}

// TestBloomVerdictMismatches: every frame runs through the kernel and the
// model, and each frame whose verdicts differ counts once, the first and
// the last frame included; a run's error is returned.
func TestBloomVerdictMismatches(t *testing.T) {
	frames := [][]byte{{1}, {2}, {3}, {4}}
	model := []uint32{bloomxdp.VerdictDrop, bloomxdp.VerdictPass, bloomxdp.VerdictPass, bloomxdp.VerdictDrop}
	r, _ := frameRun(1)
	for _, tc := range []struct {
		name   string
		kernel []uint32
		want   int
	}{
		{"agree", model, 0},
		{"first differs", []uint32{bloomxdp.VerdictPass, bloomxdp.VerdictPass, bloomxdp.VerdictPass, bloomxdp.VerdictDrop}, 1},
		{"last differs", []uint32{bloomxdp.VerdictDrop, bloomxdp.VerdictPass, bloomxdp.VerdictPass, bloomxdp.VerdictPass}, 1},
		{"all differ", []uint32{bloomxdp.VerdictPass, bloomxdp.VerdictDrop, bloomxdp.VerdictDrop, bloomxdp.VerdictPass}, 4},
	} {
		k, m := &fakeVerdicts{verdicts: tc.kernel}, &fakeVerdicts{verdicts: model}
		got, err := bloomVerdictMismatches(r, k, m, frames)
		if err != nil || got != tc.want {
			t.Errorf("%s: %d mismatches (%v), want %d", tc.name, got, err, tc.want)
		}
		if !sameFrames(k.seen, frames) || !sameFrames(m.seen, frames) {
			t.Errorf("%s: kernel ran %v, model %v, want %v each", tc.name, k.seen, m.seen, frames)
		}
	}
	boom := errors.New("boom")
	if _, err := bloomVerdictMismatches(r, &fakeVerdicts{err: boom}, &fakeVerdicts{verdicts: model}, frames); !errors.Is(err, boom) {
		t.Errorf("kernel error: got %v", err)
	}
	if _, err := bloomVerdictMismatches(r, &fakeVerdicts{verdicts: model}, &fakeVerdicts{err: boom}, frames); !errors.Is(err, boom) {
		t.Errorf("model error: got %v", err)
	}
}

// fakeLearner is a fake learn-mode kernel whose filter read back is
// filter (or err), whatever the frames it ran.
type fakeLearner struct {
	fakeVerdicts
	filter *bloom.Filter
	err    error
}

func (f *fakeLearner) Filter() (*bloom.Filter, error) { return f.filter, f.err }

// TestBloomLearned: the learned filter read back from the kernel is
// identical to the model's only if it holds the same keys: those of every
// frame, hashed as the kernel does (bloomxdp.KeyBytes).
func TestBloomLearned(t *testing.T) {
	frames := [][]byte{
		pkt.UDP4("10.0.0.1:1000", "10.0.0.2:53", nil),
		pkt.TCP4("10.0.0.3:1000", "10.0.0.4:80", 0, nil),
		pkt.UDP4("10.0.0.5:1000", "10.0.0.6:53", nil),
	}
	opts := bloomxdp.Options{Params: bloom.ParamsFor(100, bloomFPR).WithSeed(7), Layout: bloomxdp.Classic, Key: bloomxdp.KeyFlow, Action: bloomxdp.DropMembers, Learn: true}
	filterOf := func(frames [][]byte) *bloom.Filter {
		f := bloom.MustNew(opts.Params)
		for _, fr := range frames {
			info, err := flow.Parse(fr)
			if err != nil {
				t.Fatal(err)
			}
			f.Add(bloomxdp.KeyBytes(&info.Key, bloomxdp.KeyFlow))
		}
		return f
	}
	pass := []uint32{bloomxdp.VerdictPass, bloomxdp.VerdictPass, bloomxdp.VerdictPass}
	for _, tc := range []struct {
		name    string
		learned *bloom.Filter
		same    bool
	}{
		{"every frame's key", filterOf(frames), true},
		{"the last key missing", filterOf(frames[:2]), false},
		{"empty", filterOf(nil), false},
		{"other seed", bloom.MustNew(opts.Params.WithSeed(8)), false},
	} {
		k := &fakeLearner{fakeVerdicts: fakeVerdicts{verdicts: pass}, filter: tc.learned}
		got, same, err := bloomLearned(k, &bloomxdp.Model{Options: opts, Filter: bloom.MustNew(opts.Params)}, frames)
		if err != nil || same != tc.same || got != tc.learned {
			t.Errorf("%s: identical %v (%v), want %v, and the kernel's filter", tc.name, same, err, tc.same)
		}
		if !sameFrames(k.seen, frames) {
			t.Errorf("%s: the kernel learned %d frames, want the %d", tc.name, len(k.seen), len(frames))
		}
	}
	boom := errors.New("boom")
	k := &fakeLearner{fakeVerdicts: fakeVerdicts{verdicts: pass}, err: boom}
	if _, _, err := bloomLearned(k, &bloomxdp.Model{Options: opts, Filter: bloom.MustNew(opts.Params)}, frames); !errors.Is(err, boom) {
		t.Errorf("read-back error: got %v", err)
	}
	k = &fakeLearner{fakeVerdicts: fakeVerdicts{err: boom}, filter: filterOf(frames)}
	if _, _, err := bloomLearned(k, &bloomxdp.Model{Options: opts, Filter: bloom.MustNew(opts.Params)}, frames); !errors.Is(err, boom) {
		t.Errorf("run error: got %v", err)
	}
}

// TestBloomDisagreement: the section fails when a verdict differs or the
// learned filter does, each alone, and says which.
func TestBloomDisagreement(t *testing.T) {
	if err := bloomDisagreement(0, true); err != nil {
		t.Errorf("agreeing kernel: %v", err)
	}
	for _, tc := range []struct {
		mismatches int
		same       bool
		want       string
	}{
		{1, true, "(1 verdicts, learned filter identical: true)"},
		{0, false, "(0 verdicts, learned filter identical: false)"},
		{3, false, "(3 verdicts, learned filter identical: false)"},
	} {
		err := bloomDisagreement(tc.mismatches, tc.same)
		if err == nil || !strings.Contains(err.Error(), "kernel and Go disagree "+tc.want) {
			t.Errorf("%d mismatches, same %v: error %v, want one saying %q", tc.mismatches, tc.same, err, tc.want)
		}
	}
}
