package main

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/cms"
	cmsxdp "github.com/dataplane-go/dataplane/cms/xdp"
	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestCmsKernel_MoreReportsThanTheRingHolds: the kernel detector's reports
// go through a ring buffer of 3,276 events. A trace whose detector reports
// more than that (4,000 flows of 44 packets each, 22 in each of the two
// intervals, so that every flow crosses the lowered threshold of 20 in
// each) must still compare the kernel's reports with Go's, not fail the
// run because the ring filled before it was read.
func TestCmsKernel_MoreReportsThanTheRingHolds(t *testing.T) {
	kerneltest.Require(t)
	const flows, perFlow = 4000, 44
	var frames [][]byte
	for p := 0; p < perFlow; p++ {
		for i := 0; i < flows; i++ {
			frames = append(frames, pkt.UDP4(fmt.Sprintf("10.2.%d.%d:4000", i>>8, i&255), fmt.Sprintf("10.3.%d.%d:53", i&255, i>>8), nil))
		}
	}
	r, out := frameRun(1, frames...)
	r.Kernel = KernelOn
	line, err := cmsKernelReport(r)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	m := regexp.MustCompile(`(\d+) reports naming (\d+) heavy flows \(Go model: (\d+) reports, same keys in the same order and intervals: true\)`).FindStringSubmatch(out.String())
	if m == nil || m[1] != m[3] || m[2] != fmt.Sprint(flows) {
		t.Errorf("kernel detector line does not report every flow, as Go does:\n%s\n%s", out.String(), line)
	}
}

// TestCmsSection_Figures: a trace of one flow of 1,200 packets, 99 of 20
// to 118 packets and 800 of 3. The error figures are those of a
// count-min sketch of the same parameters; the top-100 tracker finds the
// 100 largest flows (the 100th has 20 packets); the lab detector
// (threshold 1,000) sees the big flow cross and drops its last 200
// packets.
func TestCmsSection_Figures(t *testing.T) {
	counts := []int{1200}
	for i := range 99 {
		counts = append(counts, 20+i)
	}
	for range 800 {
		counts = append(counts, 3)
	}
	var frames [][]byte
	flowFrames := make([][]byte, len(counts))
	for i := range counts {
		flowFrames[i] = pkt.UDP4(fmt.Sprintf("10.2.%d.%d:4000", i>>8, i&255), "10.3.0.1:53", nil)
	}
	for p := 0; p < counts[0]; p++ {
		for i, c := range counts {
			if p < c {
				frames = append(frames, flowFrames[i])
			}
		}
	}
	r, out := frameRun(11, frames...)
	if err := cmsSection(r); err != nil {
		t.Fatal(err)
	}
	sec := out.String()

	// The reference sketches and their largest errors.
	p := cms.ParamsFor(0.001, 0.01).WithSeed(r.Seed)
	std, cons := cms.MustNew(p), cms.MustNew(p.WithConservative(true))
	for _, k := range r.Keys() {
		std.Add(k.Bytes(), 1)
		cons.Add(k.Bytes(), 1)
	}
	errs := func(s *cms.Sketch) (mean, worst float64) {
		for i, k := range r.Flows() {
			d := float64(s.Estimate(k.Bytes())) - float64(counts[i])
			mean += d
			worst = max(worst, d)
		}
		return mean / float64(len(counts)), worst
	}
	stdMean, stdWorst := errs(std)
	_, consWorst := errs(cons)
	if stdWorst == consWorst {
		t.Fatalf("standard and conservative sketches err alike (%v): the test cannot tell them apart", stdWorst)
	}
	// Fewer than 1000 flows: the top-1000 figures are those of all flows.
	m := regexp.MustCompile(`(?m)^standard\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s`).FindStringSubmatch(sec)
	if want := []string{formatFloat(stdMean), formatFloat(stdWorst), formatFloat(stdMean), formatFloat(stdWorst)}; m == nil || fmt.Sprint(m[1:]) != fmt.Sprint(want) {
		t.Errorf("standard sketch errors %q, want %q:\n%s", m, want, sec)
	}
	near := 0
	for _, c := range counts {
		if math.Abs(float64(c)-20) <= consWorst {
			near++
		}
	}
	want := fmt.Sprintf("recall 1.000 against exact counts (flow 100 by exact count has 20 packets; %d flows are within %.0f packets of that", near, consWorst)
	if !strings.Contains(sec, want) {
		t.Errorf("no %q in\n%s", want, sec)
	}
	if want := "1 flows crossed the threshold, 0 more reported on a first drop (counters filled by others), 200 packets dropped"; !strings.Contains(sec, want) {
		t.Errorf("no %q in\n%s", want, sec)
	}
}

// TestCmsSection_MeanOverTheTopFlows: the "mean top" error is over the
// 1,000 largest flows, not over all of them. Here those are the 1,000
// flows of 5 packets, and 500 more flows have 1.
func TestCmsSection_MeanOverTheTopFlows(t *testing.T) {
	var frames [][]byte
	for p := range 5 {
		for i := range 1500 {
			if i < 1000 || p == 0 {
				frames = append(frames, pkt.UDP4(fmt.Sprintf("10.2.%d.%d:4000", i>>8, i&255), "10.3.0.1:53", nil))
			}
		}
	}
	r, out := frameRun(3, frames...)
	if err := cmsSection(r); err != nil {
		t.Fatal(err)
	}
	std := cms.MustNew(cms.ParamsFor(0.001, 0.01).WithSeed(r.Seed))
	for _, k := range r.Keys() {
		std.Add(k.Bytes(), 1)
	}
	sum := 0.0
	for _, k := range r.Flows()[:1000] {
		sum += float64(std.Estimate(k.Bytes())) - 5
	}
	if sum == 0 {
		t.Fatal("no error on the top flows: the test cannot tell the mean's base")
	}
	m := regexp.MustCompile(`(?m)^standard\s+(\S+)\s`).FindStringSubmatch(out.String())
	if want := formatFloat(sum / 1000); m == nil || m[1] != want {
		t.Errorf("standard sketch mean error over the top flows %q, want %s:\n%s", m, want, out)
	}
}

// TestCmsCounterDiff: counters are compared position by position; each
// that differs counts once, and so does each that only one sketch has.
func TestCmsCounterDiff(t *testing.T) {
	for _, tc := range []struct {
		got, want []uint32
		diff      int
	}{
		{[]uint32{1, 2, 3, 4}, []uint32{1, 2, 3, 4}, 0},
		{[]uint32{9, 2, 3, 4}, []uint32{1, 2, 3, 4}, 1},
		{[]uint32{1, 2, 3, 5}, []uint32{1, 2, 3, 4}, 1},
		{[]uint32{0, 2, 0, 5}, []uint32{1, 2, 3, 4}, 3},
		{[]uint32{1, 2, 3}, []uint32{1, 2, 3, 4}, 1},
		{[]uint32{1, 2, 3, 4, 0, 0}, []uint32{1, 2, 3, 4}, 2},
	} {
		if got := cmsCounterDiff(tc.got, tc.want); got != tc.diff {
			t.Errorf("%v against %v: %d differ, want %d", tc.got, tc.want, got, tc.diff)
		}
	}
}

// fakeDetector is a fake cms/xdp detector kernel: its verdicts (fake
// verdicts), and on its n-th call to Events the n-th batch of events.
type fakeDetector struct {
	fakeVerdicts
	batches [][]cmsxdp.Event
	reads   int
}

func (f *fakeDetector) Events() ([]cmsxdp.Event, error) {
	f.reads++
	if f.reads > len(f.batches) {
		return nil, nil
	}
	return f.batches[f.reads-1], nil
}

// TestCmsDetect: each frame's kernel verdict is compared with the Go
// detector's (a frame that does not parse passes), the Go detector's
// drops and reports are collected in order, and the kernel's events are
// read every 1,024 frames and at the end, none lost.
func TestCmsDetect(t *testing.T) {
	a := pkt.UDP4("10.0.0.1:1000", "10.0.0.2:53", nil)
	b := pkt.UDP4("10.0.0.3:1000", "10.0.0.4:53", nil)
	junk := make([]byte, 14) // EtherType 0: not IP
	ka, _ := flow.Parse(a)
	// Threshold 2: a's second packet brings its estimate to it (passed,
	// reported crossed); its third is dropped.
	frames := [][]byte{a, a, b, junk, a}
	const drop, pass = 1, 2
	goVerdicts := []uint32{pass, pass, pass, pass, drop}
	for _, tc := range []struct {
		name       string
		kernel     []uint32
		mismatches int
	}{
		{"agree", goVerdicts, 0},
		{"drop where Go passes", []uint32{drop, pass, pass, pass, drop}, 1},
		{"pass where Go drops", []uint32{pass, pass, pass, pass, pass}, 1},
		{"drop of a frame Go does not parse", []uint32{pass, pass, pass, drop, drop}, 1},
		{"every verdict", []uint32{drop, drop, drop, drop, pass}, 5},
	} {
		model, err := cms.NewDetector(cms.LabParams(4096, 5), 2)
		if err != nil {
			t.Fatal(err)
		}
		ev := cmsxdp.Event{Key: ka.Key, Report: cms.ReportCrossed}
		k := &fakeDetector{fakeVerdicts: fakeVerdicts{verdicts: tc.kernel}, batches: [][]cmsxdp.Event{{ev}}}
		d, err := cmsDetect(k, model, frames)
		if err != nil {
			t.Fatal(err)
		}
		if d.mismatches != tc.mismatches || d.drops != 1 {
			t.Errorf("%s: %d mismatches, Go drops %d; want %d and 1", tc.name, d.mismatches, d.drops, tc.mismatches)
		}
		if len(d.reports) != 1 || d.reports[0] != (cmsReport{ka.Key, cms.ReportCrossed}) {
			t.Errorf("%s: Go reports %v, want a's crossing", tc.name, d.reports)
		}
		if len(d.events) != 1 || d.events[0] != ev {
			t.Errorf("%s: kernel events %v, want %v", tc.name, d.events, []cmsxdp.Event{ev})
		}
		if !sameFrames(k.seen, frames) {
			t.Errorf("%s: the kernel ran %d frames, not the %d", tc.name, len(k.seen), len(frames))
		}
	}

	// With one counter per row every flow shares them: b's packet brings
	// them to the threshold (crossed), c's is dropped and reported as a
	// first drop.
	c := pkt.UDP4("10.0.0.5:1000", "10.0.0.6:53", nil)
	kb, _ := flow.Parse(b)
	kc, _ := flow.Parse(c)
	shared, err := cms.NewDetector(cms.LabParams(1, 5), 2)
	if err != nil {
		t.Fatal(err)
	}
	k := &fakeDetector{fakeVerdicts: fakeVerdicts{verdicts: []uint32{pass, pass, drop}}}
	d, err := cmsDetect(k, shared, [][]byte{a, b, c})
	want := []cmsReport{{kb.Key, cms.ReportCrossed}, {kc.Key, cms.ReportDropped}}
	if err != nil || d.mismatches != 0 || d.drops != 1 || !slices.Equal(d.reports, want) {
		t.Errorf("shared counters: %d mismatches, %d drops, reports %v (%v); want 0, 1, %v", d.mismatches, d.drops, d.reports, err, want)
	}

	// The events are read after frames 1,024 and 2,048 and at the end.
	many := make([][]byte, 2049)
	for i := range many {
		many[i] = junk
	}
	verdicts := make([]uint32, len(many))
	for i := range verdicts {
		verdicts[i] = pass
	}
	batches := [][]cmsxdp.Event{{{Hash: 1}}, {{Hash: 2}, {Hash: 3}}, {{Hash: 4}}}
	k = &fakeDetector{fakeVerdicts: fakeVerdicts{verdicts: verdicts}, batches: batches}
	model, _ := cms.NewDetector(cms.LabParams(4096, 5), 2)
	d, err = cmsDetect(k, model, many)
	if err != nil {
		t.Fatal(err)
	}
	if k.reads != 3 || len(d.events) != 4 || d.events[0].Hash != 1 || d.events[3].Hash != 4 {
		t.Errorf("%d frames: events read %d times, got %v; want 3 reads of %v", len(many), k.reads, d.events, batches)
	}
	k = &fakeDetector{fakeVerdicts: fakeVerdicts{verdicts: verdicts}, batches: batches}
	if _, err := cmsDetect(k, model, many[:1023]); err != nil || k.reads != 1 {
		t.Errorf("1023 frames: events read %d times (%v), want once, at the end", k.reads, err)
	}

	boom := errors.New("boom")
	if _, err := cmsDetect(&fakeDetector{fakeVerdicts: fakeVerdicts{err: boom}}, model, frames); !errors.Is(err, boom) {
		t.Errorf("kernel error: got %v", err)
	}
}

// TestCmsReportsDiffer: the kernel's events must be the Go detector's
// reports, as many, and each of the same key and kind, in order.
func TestCmsReportsDiffer(t *testing.T) {
	k1 := flow.KeyFrom4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 1, 2, flow.ProtoUDP)
	k2 := flow.KeyFrom4([4]byte{10, 0, 0, 3}, [4]byte{10, 0, 0, 4}, 1, 2, flow.ProtoUDP)
	reports := []cmsReport{{k1, cms.ReportCrossed}, {k2, cms.ReportDropped}}
	ev := func(k flow.Key, r cms.Report) cmsxdp.Event {
		return cmsxdp.Event{Key: k, Report: r, Hash: 99, Estimate: 7}
	}
	for _, tc := range []struct {
		name    string
		events  []cmsxdp.Event
		reports []cmsReport
		differ  bool
	}{
		{"same", []cmsxdp.Event{ev(k1, cms.ReportCrossed), ev(k2, cms.ReportDropped)}, reports, false},
		{"none", nil, nil, false},
		{"one fewer", []cmsxdp.Event{ev(k1, cms.ReportCrossed)}, reports, true},
		{"one more", []cmsxdp.Event{ev(k1, cms.ReportCrossed), ev(k2, cms.ReportDropped), ev(k2, cms.ReportDropped)}, reports, true},
		{"none of two", nil, reports, true},
		{"other key", []cmsxdp.Event{ev(k1, cms.ReportCrossed), ev(k1, cms.ReportDropped)}, reports, true},
		{"other kind", []cmsxdp.Event{ev(k1, cms.ReportCrossed), ev(k2, cms.ReportCrossed)}, reports, true},
		{"first differs", []cmsxdp.Event{ev(k1, cms.ReportDropped), ev(k2, cms.ReportDropped)}, reports, true},
		{"other order", []cmsxdp.Event{ev(k2, cms.ReportDropped), ev(k1, cms.ReportCrossed)}, reports, true},
	} {
		if got := cmsReportsDiffer(tc.events, tc.reports); got != tc.differ {
			t.Errorf("%s: differ %v, want %v", tc.name, got, tc.differ)
		}
	}
}

// TestCmsDisagreement: the section fails when any one compared figure
// differs (sketch counters, verdicts, reports, N, detector drops), and
// says which.
func TestCmsDisagreement(t *testing.T) {
	if err := cmsDisagreement(0, 0, false, 100, 100, 7, 7); err != nil {
		t.Errorf("agreeing kernel: %v", err)
	}
	for _, tc := range []struct {
		name             string
		diff, mismatches int
		reportDiff       bool
		n, goN, drops    uint64
		goDrops          int
		want             string
	}{
		{"counters", 3, 0, false, 100, 100, 7, 7, "(3 counters, 0 verdicts, reports differ: false, N 100 vs 100, detector drops 7 vs 7)"},
		{"verdicts", 0, 2, false, 100, 100, 7, 7, "(0 counters, 2 verdicts, reports differ: false, N 100 vs 100, detector drops 7 vs 7)"},
		{"reports", 0, 0, true, 100, 100, 7, 7, "(0 counters, 0 verdicts, reports differ: true, N 100 vs 100, detector drops 7 vs 7)"},
		{"N", 0, 0, false, 101, 100, 7, 7, "(0 counters, 0 verdicts, reports differ: false, N 101 vs 100, detector drops 7 vs 7)"},
		{"N below Go's", 0, 0, false, 99, 100, 7, 7, "(0 counters, 0 verdicts, reports differ: false, N 99 vs 100, detector drops 7 vs 7)"},
		{"drops below Go's", 0, 0, false, 100, 100, 6, 7, "(0 counters, 0 verdicts, reports differ: false, N 100 vs 100, detector drops 6 vs 7)"},
		{"drops above Go's", 0, 0, false, 100, 100, 8, 7, "(0 counters, 0 verdicts, reports differ: false, N 100 vs 100, detector drops 8 vs 7)"},
		{"one counter", 1, 0, false, 100, 100, 7, 7, "(1 counters, 0 verdicts, reports differ: false, N 100 vs 100, detector drops 7 vs 7)"},
		{"one verdict", 0, 1, false, 100, 100, 7, 7, "(0 counters, 1 verdicts, reports differ: false, N 100 vs 100, detector drops 7 vs 7)"},
	} {
		err := cmsDisagreement(tc.diff, tc.mismatches, tc.reportDiff, tc.n, tc.goN, tc.drops, tc.goDrops)
		if err == nil || err.Error() != "cms: kernel and Go disagree "+tc.want {
			t.Errorf("%s: error %v, want one ending %q", tc.name, err, tc.want)
		}
	}
}
