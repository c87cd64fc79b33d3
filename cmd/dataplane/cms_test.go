package main

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/cms"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestCmsKernel_MoreReportsThanTheRingHolds: the kernel detector's reports
// go through a ring buffer of 3,276 events. A trace whose detector reports
// more than that (4,000 flows of 22 packets each, all over the lowered
// threshold of 20) must still compare the kernel's reports with Go's, not
// fail the run because the ring filled before it was read.
func TestCmsKernel_MoreReportsThanTheRingHolds(t *testing.T) {
	kerneltest.Require(t)
	const flows, perFlow = 4000, 22
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
	m := regexp.MustCompile(`(\d+) reports naming (\d+) heavy flows \(Go model: (\d+) reports, same keys in the same order: true\)`).FindStringSubmatch(out.String())
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
